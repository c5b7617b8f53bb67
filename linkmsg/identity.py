"""LinkedIn identifier parsing and canonical forms.

Vendors pass LinkedIn's own identifiers through, each in its own spelling: the
same conversation arrives as a ``msg_conversation`` URN, a ``messagingThread``
URN, a bare ``2-…`` thread id or a web URL. The parsers here reduce every
documented spelling to one value object, so two spellings of one thread (or
one person) compare equal.

Parsers are called once per message while listing, so results are cached
(inputs are plain strings) and every form is recognised by its prefix before a
regex runs.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from urllib.parse import quote, unquote

import attrs

from linkmsg.errors import InvalidIdentifier

__all__ = [
    "ConversationRef",
    "MessageRef",
    "ProfileRef",
    "conversation_urn",
    "message_urn",
    "parse_conversation_id",
    "parse_message_id",
    "parse_profile",
    "profile_urn",
]

_CACHE_SIZE = 4096

_URN = "urn:li:"
_FSD_PROFILE = "urn:li:fsd_profile:"
_CONVERSATION = "urn:li:msg_conversation:("
_MESSAGE = "urn:li:msg_message:("
_THREAD = "urn:li:messagingThread:"
_BACKEND_MESSAGE = "urn:li:messagingMessage:"
_LEGACY_CONVERSATION = "urn:li:conversation:"
_LEGACY_MESSAGE = "urn:li:message:"
_SALES_THREAD = "urn:li:salesNav_thread:"
_SALES_PROFILE = "urn:li:fs_salesProfile:("
_KEY_PREFIX = "2-"

# Thread and message keys are base64 (standard or URL-safe) after "2-"; legacy
# keys are digits. Anything outside this alphabet cannot be a key.
_KEY_RE = re.compile(r"[A-Za-z0-9+/=_-]+")
# The id inside an explicit fsd_profile URN: the URN type already says what it
# is, so only the alphabet is checked.
_URN_PROFILE_ID_RE = re.compile(r"[A-Za-z0-9_-]+")
# A bare member id must carry LinkedIn's prefix (ACoAA member, ACwAA Sales
# Navigator); otherwise it could be a vanity slug.
_PROFILE_ID_RE = re.compile(r"AC[ow]AA[A-Za-z0-9_-]+")
_MEMBER_ID_PREFIX = "ACoAA"
# A vanity slug: letters (any script), digits and hyphens, 3-100 characters,
# at least one of them a letter or digit.
_SLUG_RE = re.compile(r"(?=-*[^\W_])(?:[^\W_]|-){3,100}")

# "(<mailbox fsd_profile URN>,<key>)", the tail of per-mailbox URNs.
_PAIR = r"\((urn:li:fsd_profile:[A-Za-z0-9_-]+),([A-Za-z0-9+/=_-]+)\)"
_CONVERSATION_RE = re.compile(r"urn:li:msg_conversation:" + _PAIR)
_MESSAGE_RE = re.compile(r"urn:li:msg_message:" + _PAIR)
_SALES_PROFILE_RE = re.compile(r"urn:li:fs_salesProfile:\((AC[ow]AA[A-Za-z0-9_-]+),[^(),]*,[^()]*\)")
# Hosts: linkedin.com, www.linkedin.com and country subdomains (fr.linkedin.com).
_HOST = r"(?:https?://)?(?:(?:www|[a-z]{2})\.)?linkedin\.com"
_TAIL = r"/?(?:[?#].*)?"
_THREAD_URL_RE = re.compile(_HOST + r"/messaging/thread/([^/?#]+)" + _TAIL, re.IGNORECASE | re.DOTALL)
# Sub-pages of a profile (/in/<slug>/details/…) still name the profile.
_PROFILE_URL_RE = re.compile(_HOST + r"/(in|sales/lead)/([^/?#]+)(?:/[^?#]*)?(?:[?#].*)?", re.IGNORECASE | re.DOTALL)

# Decoded message ids: "<ms>b<n>-100", optionally "&<thread uuid>_100".
_DECODED_MESSAGE_RE = re.compile(r"(\d{13})b\d+-\d+(?:&(.*))?", re.DOTALL)
# Decoded thread ids: "<uuid>_<digits>" (the suffix is not always 100).
_DECODED_THREAD_RE = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}_\d+")
# URL-safe base64 to the standard alphabet, so one decoder handles both.
_URLSAFE_TO_STD = str.maketrans("-_", "+/")

_CONVERSATION_FORMS = (
    "expected a conversation id such as "
    "'urn:li:msg_conversation:(urn:li:fsd_profile:ACoAA…,2-…)', "
    "'urn:li:messagingThread:2-…' or '2-…'"
)
_MESSAGE_FORMS = (
    "expected a message id such as "
    "'urn:li:msg_message:(urn:li:fsd_profile:ACoAA…,2-…)', "
    "'urn:li:messagingMessage:2-…' or '2-…'"
)
_PROFILE_FORMS = (
    "expected a profile such as 'urn:li:fsd_profile:ACoAA…', 'ACoAA…', "
    "'https://www.linkedin.com/in/<slug>', "
    "'https://www.linkedin.com/sales/lead/ACwAA…' or a bare '<slug>'"
)
_MEMBER_FORMS = "expected a member id such as 'urn:li:fsd_profile:ACoAA…' or 'ACoAA…'"
_SHOW_LIMIT = 80


def _show(value: object) -> str:
    """Quote a bad input for an error message, shortened so logs stay readable."""
    text = value if isinstance(value, str) else type(value).__name__
    if len(text) > _SHOW_LIMIT:
        text = text[: _SHOW_LIMIT - 1] + "…"
    return repr(text)


def _invalid(forms: str, value: object, why: str = "") -> InvalidIdentifier:
    detail = f" ({why})" if why else ""
    return InvalidIdentifier(f"{forms}, got {_show(value)}{detail}")


def _clean(value: str) -> str:
    # Ids often arrive URL-encoded (copied from a request path); decode once.
    text = value.strip()
    if "%" in text:
        text = unquote(text).strip()
    return text


# --------------------------------------------------------------------------- keys


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _decode_key(key: str) -> str | None:
    """The text a ``2-<base64>`` key decodes to, or None if it does not decode."""
    if not key.startswith(_KEY_PREFIX):
        return None
    body = key[2:].translate(_URLSAFE_TO_STD).rstrip("=")
    if not body or len(body) % 4 == 1:
        return None
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        return raw.decode("ascii")
    except (binascii.Error, ValueError):
        return None


def _encode_key(decoded: str) -> str:
    # Standard alphabet with padding: the spelling every vendor example uses.
    return _KEY_PREFIX + base64.b64encode(decoded.encode("ascii")).decode("ascii")


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _message_parts(message_id: str) -> tuple[int | None, str | None]:
    """(send time in epoch ms, thread id) read from a message id, when present."""
    decoded = _decode_key(message_id)
    if decoded is None:
        return None, None
    match = _DECODED_MESSAGE_RE.fullmatch(decoded)
    if match is None:
        return None, None
    thread = match.group(2)
    if thread is not None and _DECODED_THREAD_RE.fullmatch(thread):
        return int(match.group(1)), _encode_key(thread)
    return int(match.group(1)), None


def _is_message_key(key: str) -> bool:
    return _message_parts(key)[0] is not None


def _is_thread_key(key: str) -> bool:
    decoded = _decode_key(key)
    return decoded is not None and _DECODED_THREAD_RE.fullmatch(decoded) is not None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _mailbox(value: str | None) -> str | None:
    """Normalise a caller-supplied mailbox to its fsd_profile URN."""
    if value is None:
        return None
    text = _clean(value)
    if text.startswith(_FSD_PROFILE) and _URN_PROFILE_ID_RE.fullmatch(text, len(_FSD_PROFILE)):
        return text
    if text.startswith(_MEMBER_ID_PREFIX) and _PROFILE_ID_RE.fullmatch(text):
        return _FSD_PROFILE + text
    raise _invalid(_MEMBER_FORMS, value)


# ------------------------------------------------------------------ conversations


@attrs.frozen(slots=True)
class ConversationRef:
    """One LinkedIn conversation, however a vendor spelled it.

    ``thread_id`` is the bare thread key (``2-…``, or a legacy key such as
    the digits of ``urn:li:conversation:123``); ``mailbox_urn`` is the
    ``urn:li:fsd_profile:…`` of the inbox the conversation was read from, when
    known. Conversation URNs are per mailbox, so a URN needs both.
    ``sales_nav`` is True for an id spelled ``urn:li:salesNav_thread:…``: a
    Sales Navigator thread, which a vendor reads through another inbox.
    """

    thread_id: str
    mailbox_urn: str | None = None
    sales_nav: bool = False

    @property
    def urn(self) -> str | None:
        """``urn:li:msg_conversation:(<mailbox>,<thread>)``, or None without a mailbox."""
        if self.mailbox_urn is None:
            return None
        return f"{_CONVERSATION}{self.mailbox_urn},{self.thread_id})"


def conversation_urn(mailbox_urn: str, thread_id: str) -> str:
    """Build ``urn:li:msg_conversation:(<mailbox>,<thread>)``.

    ``mailbox_urn`` may also be a bare ``ACoAA…`` id. Raises
    :class:`InvalidIdentifier` if either part is malformed.
    """
    mailbox = _mailbox(mailbox_urn) if isinstance(mailbox_urn, str) else None
    if mailbox is None:
        raise _invalid(_MEMBER_FORMS, mailbox_urn)
    if not isinstance(thread_id, str) or not _KEY_RE.fullmatch(thread_id):
        raise _invalid(_CONVERSATION_FORMS, thread_id, "a bare thread id such as '2-…' is needed here")
    return f"{_CONVERSATION}{mailbox},{thread_id})"


def parse_conversation_id(value: str, *, mailbox_urn: str | None = None) -> ConversationRef:
    """Parse any documented spelling of a conversation id.

    Accepted: ``urn:li:msg_conversation:(<mailbox>,<thread>)`` (its own mailbox
    wins over ``mailbox_urn``), ``urn:li:messagingThread:<thread>``, a bare
    ``2-…`` thread id, ``https://www.linkedin.com/messaging/thread/<thread>/``,
    legacy ``urn:li:conversation:<digits>``, ``urn:li:salesNav_thread:<thread>``,
    and message ids (``urn:li:msg_message:(…)``, ``urn:li:messagingMessage:…``,
    bare ``2-…``) whose long form names their thread. Input may be
    percent-encoded. Anything else raises :class:`InvalidIdentifier`.
    """
    if not isinstance(value, str):
        raise _invalid(_CONVERSATION_FORMS, value)
    if mailbox_urn is not None and not isinstance(mailbox_urn, str):
        raise _invalid(_MEMBER_FORMS, mailbox_urn)
    return _parse_conversation(value, mailbox_urn)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_conversation(value: str, mailbox_urn: str | None) -> ConversationRef:
    text = _clean(value)
    if text.startswith(_URN):
        if text.startswith(_CONVERSATION):
            match = _CONVERSATION_RE.fullmatch(text)
            if match is not None:
                return ConversationRef(match.group(2), match.group(1))
        elif text.startswith(_THREAD):
            return _from_thread_key(text[len(_THREAD) :], value, mailbox_urn)
        elif text.startswith(_MESSAGE):
            match = _MESSAGE_RE.fullmatch(text)
            if match is not None:
                return _from_message_key(match.group(2), value, match.group(1))
        elif text.startswith(_BACKEND_MESSAGE):
            return _from_message_key(text[len(_BACKEND_MESSAGE) :], value, _mailbox(mailbox_urn))
        elif text.startswith(_LEGACY_CONVERSATION):
            digits = text[len(_LEGACY_CONVERSATION) :]
            if digits.isascii() and digits.isdigit():
                return ConversationRef(digits, _mailbox(mailbox_urn))
        elif text.startswith(_SALES_THREAD):
            ref = _from_thread_key(text[len(_SALES_THREAD) :], value, mailbox_urn)
            return ConversationRef(ref.thread_id, ref.mailbox_urn, sales_nav=True)
    elif text.startswith(_KEY_PREFIX):
        return _from_thread_key(text, value, mailbox_urn)
    elif "linkedin.com" in text.lower():
        match = _THREAD_URL_RE.fullmatch(text)
        if match is not None:
            return _from_thread_key(match.group(1), value, mailbox_urn)
    raise _invalid(_CONVERSATION_FORMS, value)


def _from_thread_key(key: str, value: str, mailbox_urn: str | None) -> ConversationRef:
    if not _KEY_RE.fullmatch(key):
        raise _invalid(_CONVERSATION_FORMS, value)
    # A bare "2-…" can also be a message id; only its long form names the thread.
    if _is_message_key(key):
        return _from_message_key(key, value, _mailbox(mailbox_urn))
    return ConversationRef(key, _mailbox(mailbox_urn))


def _from_message_key(key: str, value: str, mailbox: str | None) -> ConversationRef:
    thread = _message_parts(key)[1] if _KEY_RE.fullmatch(key) else None
    if thread is None:
        raise _invalid(
            _CONVERSATION_FORMS,
            value,
            "this is a message id that does not contain its conversation",
        )
    return ConversationRef(thread, mailbox)


# ----------------------------------------------------------------------- messages


@attrs.frozen(slots=True)
class MessageRef:
    """One LinkedIn message: its bare ``2-…`` id and, when known, the mailbox."""

    message_id: str
    mailbox_urn: str | None = None

    @property
    def urn(self) -> str | None:
        """``urn:li:msg_message:(<mailbox>,<message>)``, or None without a mailbox."""
        if self.mailbox_urn is None:
            return None
        return f"{_MESSAGE}{self.mailbox_urn},{self.message_id})"

    @property
    def sent_at_ms(self) -> int | None:
        """Send time in epoch ms encoded in the id (observed, not documented), or None."""
        return _message_parts(self.message_id)[0]

    @property
    def thread_id(self) -> str | None:
        """The conversation's bare thread id, when the id is in its long form."""
        return _message_parts(self.message_id)[1]


def message_urn(mailbox_urn: str, message_id: str) -> str:
    """Build ``urn:li:msg_message:(<mailbox>,<message>)``.

    ``mailbox_urn`` may also be a bare ``ACoAA…`` id. Raises
    :class:`InvalidIdentifier` if either part is malformed.
    """
    mailbox = _mailbox(mailbox_urn) if isinstance(mailbox_urn, str) else None
    if mailbox is None:
        raise _invalid(_MEMBER_FORMS, mailbox_urn)
    if not isinstance(message_id, str) or not _KEY_RE.fullmatch(message_id):
        raise _invalid(_MESSAGE_FORMS, message_id, "a bare message id such as '2-…' is needed here")
    return f"{_MESSAGE}{mailbox},{message_id})"


def parse_message_id(value: str, *, mailbox_urn: str | None = None) -> MessageRef:
    """Parse any documented spelling of a message id.

    Accepted: ``urn:li:msg_message:(<mailbox>,<id>)`` (its own mailbox wins),
    ``urn:li:messagingMessage:<id>``, a bare ``2-…`` id and legacy
    ``urn:li:message:<id>``. Input may be percent-encoded. A bare thread id, or
    anything else, raises :class:`InvalidIdentifier`.
    """
    if not isinstance(value, str):
        raise _invalid(_MESSAGE_FORMS, value)
    if mailbox_urn is not None and not isinstance(mailbox_urn, str):
        raise _invalid(_MEMBER_FORMS, mailbox_urn)
    return _parse_message(value, mailbox_urn)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_message(value: str, mailbox_urn: str | None) -> MessageRef:
    text = _clean(value)
    key: str | None = None
    if text.startswith(_URN):
        if text.startswith(_MESSAGE):
            match = _MESSAGE_RE.fullmatch(text)
            if match is not None:
                return MessageRef(match.group(2), match.group(1))
        elif text.startswith(_BACKEND_MESSAGE):
            key = text[len(_BACKEND_MESSAGE) :]
        elif text.startswith(_LEGACY_MESSAGE):
            key = text[len(_LEGACY_MESSAGE) :]
    elif text.startswith(_KEY_PREFIX):
        key = text
        # Thread ids share the "2-" prefix; mixing the two up is a caller bug.
        if _is_thread_key(key):
            raise _invalid(_MESSAGE_FORMS, value, "this is a conversation id, not a message id")
    if key is not None and _KEY_RE.fullmatch(key):
        return MessageRef(key, _mailbox(mailbox_urn))
    raise _invalid(_MESSAGE_FORMS, value)


# ----------------------------------------------------------------------- profiles


@attrs.frozen(slots=True)
class ProfileRef:
    """One LinkedIn member, by whichever ids are known.

    ``urn`` is the ``urn:li:fsd_profile:ACoAA…`` URN (None for Sales Navigator
    ``ACwAA…`` ids, which have no such URN), ``profile_id`` the bare id and
    ``public_id`` the vanity slug, percent-decoded. At least one is set.
    """

    urn: str | None = None
    profile_id: str | None = None
    public_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.urn is None and self.profile_id is None and self.public_id is None:
            raise InvalidIdentifier("a ProfileRef needs a urn, a profile_id or a public_id")

    @property
    def url(self) -> str:
        """``https://www.linkedin.com/in/<slug-or-id>``, slug percent-encoded, no trailing slash."""
        if self.public_id is not None:
            return "https://www.linkedin.com/in/" + quote(self.public_id, safe="")
        ident = self.profile_id
        if ident is None and self.urn is not None:
            ident = self.urn.rpartition(":")[2]
        return f"https://www.linkedin.com/in/{ident}"

    @property
    def key(self) -> str:
        """The most stable known key: the URN, else the bare id, else the slug."""
        key = self.urn or self.profile_id or self.public_id
        assert key is not None  # guaranteed by __attrs_post_init__
        return key


def profile_urn(profile_id: str) -> str:
    """Build ``urn:li:fsd_profile:<id>`` from a bare ``ACoAA…`` id (or return a URN as is).

    Sales Navigator ``ACwAA…`` ids have no fsd_profile URN and are rejected.
    """
    if not isinstance(profile_id, str):
        raise _invalid(_MEMBER_FORMS, profile_id)
    text = _clean(profile_id)
    if text.startswith("ACwAA"):
        raise _invalid(
            "expected a member id such as 'ACoAA…'",
            profile_id,
            "Sales Navigator ids (ACwAA…) have no fsd_profile URN",
        )
    mailbox = _mailbox(text)
    assert mailbox is not None
    return mailbox


def parse_profile(value: str) -> ProfileRef:
    """Parse a profile URN, bare member id, profile URL or vanity slug.

    Accepted: ``urn:li:fsd_profile:<id>``, ``urn:li:fs_salesProfile:(ACwAA…,…)``,
    bare ``ACoAA…`` / ``ACwAA…`` ids, ``linkedin.com/in/<slug-or-id>`` URLs
    (any scheme, ``www.`` or country subdomain, trailing slash, query string,
    percent-encoding), Sales Navigator ``linkedin.com/sales/lead/ACwAA…,…`` URLs
    and a bare slug (letters, digits, hyphens; 3-100 characters). Anything else
    raises :class:`InvalidIdentifier`.
    """
    if not isinstance(value, str):
        raise _invalid(_PROFILE_FORMS, value)
    return _parse_profile(value)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_profile(value: str) -> ProfileRef:
    text = _clean(value)
    if text.startswith(_URN):
        if text.startswith(_FSD_PROFILE):
            ident = text[len(_FSD_PROFILE) :]
            if _URN_PROFILE_ID_RE.fullmatch(ident):
                return ProfileRef(text, ident, None)
        elif text.startswith(_SALES_PROFILE):
            match = _SALES_PROFILE_RE.fullmatch(text)
            if match is not None:
                return _from_profile_id(match.group(1))
        raise _invalid(_PROFILE_FORMS, value)
    if text.startswith("AC") and _PROFILE_ID_RE.fullmatch(text):
        return _from_profile_id(text)
    if "linkedin.com" in text.lower():
        match = _PROFILE_URL_RE.fullmatch(text)
        if match is not None:
            segment = match.group(2)
            if match.group(1).lower() == "in":
                if _PROFILE_ID_RE.fullmatch(segment):
                    return _from_profile_id(segment)
                if _SLUG_RE.fullmatch(segment):
                    return ProfileRef(None, None, segment)
            else:
                # Sales lead URLs append ",NAME_SEARCH,<token>" to the id.
                ident = segment.partition(",")[0]
                if _PROFILE_ID_RE.fullmatch(ident):
                    return _from_profile_id(ident)
        raise _invalid(_PROFILE_FORMS, value)
    if _SLUG_RE.fullmatch(text):
        return ProfileRef(None, None, text)
    raise _invalid(_PROFILE_FORMS, value)


def _from_profile_id(ident: str) -> ProfileRef:
    urn = _FSD_PROFILE + ident if ident.startswith(_MEMBER_ID_PREFIX) else None
    return ProfileRef(urn, ident, None)
