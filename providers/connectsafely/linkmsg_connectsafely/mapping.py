"""ConnectSafely payloads to the linkmsg model, and error bodies to typed errors.

Straight-line functions: the message path runs once per message of a full
sync, so every URN is parsed once and repeated senders come from a cache.
The top-level ``messages[]`` of a history page has a one-pass hot path,
:func:`fast_messages`, that reads the payload classes' declared keys straight
from the JSON and gives up (returns None) on anything it does not take, so
the caller redoes the page through ``structure()`` and :func:`messages`.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from linkmsg.errors import (
    InvalidIdentifier,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ResponseShapeError,
)
from linkmsg.identity import ConversationRef, parse_conversation_id, parse_message_id, parse_profile
from linkmsg.model import Attachment, Conversation, Message, MessageKind, Participant, Reaction
from linkmsg.payload import structure
from linkmsg.provider import Response, error_from_status
from linkmsg.timestamps import parse_optional_timestamp, parse_timestamp, to_epoch_ms
from linkmsg_connectsafely.payloads import (
    AttachmentPayload,
    ConversationListPayload,
    ConversationPayload,
    ErrorPayload,
    LatestMessagePayload,
    LegacyMessagePayload,
    MessagePayload,
    MessagesPayload,
    PersonPayload,
    ReactionPayload,
    ZodErrorPayload,
)

__all__ = [
    "PROVIDER",
    "Keyed",
    "conversation",
    "conversation_ref",
    "conversations",
    "error_for",
    "fast_messages",
    "first_message_ids",
    "mailbox_of",
    "messages",
    "participant",
]

PROVIDER = "connectsafely"
_PARTICIPANT_PREFIX = "urn:li:msg_messagingParticipant:"
_FSD_PROFILE = "urn:li:fsd_profile:"
_MESSAGE_URN = "urn:li:msg_message:(urn:li:fsd_profile:"
#: A message with its send time in epoch ms and its id: what sorting and the
#: TimeAnchor need, computed while the message is built.
Keyed = tuple[int, str, Message]


def shape_error(path: str, what: str) -> ResponseShapeError:
    return ResponseShapeError(
        f"{PROVIDER} returned an unexpected response shape at {path}: {what}", path=path, provider=PROVIDER
    )


def _lenient_time(value: Any) -> datetime | None:
    """A time that only decorates a listing: unreadable values (the generated
    ``"example_value"`` of §2.3.3) become None instead of failing the page."""
    try:
        return parse_optional_timestamp(value)
    except ResponseShapeError:
        return None


# ---------------------------------------------------------------------- identity


def mailbox_of(*candidates: str | None) -> str | None:
    """The mailbox owner's fsd_profile URN from a ``profileUrn`` or a per-mailbox
    conversation/message URN, whichever comes first and parses."""
    for value in candidates:
        if not value:
            continue
        try:
            if value.startswith(_FSD_PROFILE):
                return parse_profile(value).urn
            if value.startswith("urn:li:msg_message:"):
                return parse_message_id(value).mailbox_urn
            if value.startswith("urn:li:msg_conversation:"):
                return parse_conversation_id(value).mailbox_urn
        except InvalidIdentifier:
            continue
    return None


def _profile_keys(profile_id: str | None, participant_urn: str | None) -> tuple[str | None, str | None]:
    """(fsd_profile URN, vanity slug) of a ``profileId``: a slug, an ``ACoAA…`` id,
    a profile URN, or a number (legacy example) that is neither."""
    candidate = profile_id
    if not candidate and participant_urn and participant_urn.startswith(_PARTICIPANT_PREFIX):
        candidate = participant_urn[len(_PARTICIPANT_PREFIX) :]
    if not candidate or candidate.isdigit():
        return None, None
    try:
        ref = parse_profile(candidate)
    except InvalidIdentifier:
        return None, None
    return ref.urn, ref.public_id


@functools.lru_cache(maxsize=8192)
def person(
    profile_id: str | None,
    name: str | None,
    headline: str | None,
    profile_url: str | None,
    picture: str | None,
    participant_urn: str | None,
    mailbox: str | None,
    sent_by_owner: bool | None,
) -> Participant:
    """A Participant; cached because one sender repeats on every message of a thread."""
    urn, public_id = _profile_keys(profile_id, participant_urn)
    is_self = sent_by_owner
    if is_self is None and urn is not None and mailbox is not None:
        is_self = urn == mailbox
    return Participant(
        id=urn or public_id or profile_id or None,
        urn=urn,
        public_id=public_id,
        name=name,
        headline=headline,
        profile_url=profile_url,
        picture_url=picture,
        is_self=is_self,
    )


def participant(p: PersonPayload, mailbox: str | None) -> Participant:
    return person(p.profile_id, p.name, p.headline, p.profile_url, p.profile_picture, p.participant_urn, mailbox, None)


# ------------------------------------------------------------------ conversations


def conversation_ref(c: ConversationPayload, mailbox: str | None) -> ConversationRef | None:
    """The thread, from the first id field that is a LinkedIn conversation id
    (``conv_…`` database ids and generated placeholders are skipped)."""
    for value in (c.conversation_urn, c.backend_conversation_urn, c.conversation_id, c.conversation_url):
        if value:
            try:
                return parse_conversation_id(value, mailbox_urn=mailbox)
            except InvalidIdentifier:
                continue
    return None


def _latest_message(
    p: LatestMessagePayload | None,
    conversation_id: str,
    participants: Sequence[Participant],
    fallback_time: datetime | None,
) -> Message | None:
    """The preview as a Message. It carries no id, so ``id`` is ``""``; its time
    falls back to the conversation's last activity, which is that message's."""
    if p is None or (p.text is None and p.has_attachment is not True):
        return None
    sent_at = _lenient_time(p.sent_at) or fallback_time
    if sent_at is None:
        return None
    sender = next((x for x in participants if x.name is not None and x.name == p.sender_name), None)
    if sender is None:
        sender = Participant(name=p.sender_name)
    return Message(
        id=None,  # the preview carries no message id
        conversation_id=conversation_id,
        text=p.text or "",
        sent_at=sent_at,
        sender=sender,
        outgoing=sender.is_self,
    )


def conversation(c: ConversationPayload, index: int, mailbox: str | None, raw: Any = None) -> Conversation:
    ref = conversation_ref(c, mailbox)
    if ref is None:
        raise shape_error(
            f"conversations[{index}].conversationUrn",
            "no LinkedIn conversation id in conversationUrn, backendConversationUrn, conversationId or conversationUrl",
        )
    urn = ref.urn
    if urn is None:
        raise shape_error(
            f"conversations[{index}].conversationUrn",
            "only a bare thread id, and the response does not say whose mailbox it is",
        )
    participants = tuple(participant(p, ref.mailbox_urn) for p in c.participants or ())
    last_activity = _lenient_time(c.last_activity_at)
    latest = _latest_message(c.latest_message, urn, participants, last_activity)
    if last_activity is None and latest is not None:
        last_activity = latest.sent_at
    return Conversation(
        id=urn,
        thread_id=ref.thread_id,
        participants=participants,
        unread_count=c.unread_count,
        last_activity_at=last_activity,
        latest_message=latest,
        raw=raw,
    )


def _raw_items(data: Any, key: str, count: int) -> Sequence[Any]:
    items = data.get(key) if isinstance(data, dict) else None
    return items if isinstance(items, list) and len(items) == count else [None] * count


def conversations(payload: ConversationListPayload, data: Any, mailbox: str | None) -> list[Conversation]:
    items = payload.conversations or []
    raws = _raw_items(data, "conversations", len(items))
    return [conversation(c, i, mailbox, raw) for i, (c, raw) in enumerate(zip(items, raws, strict=True))]


# ------------------------------------------------------------------------ messages


def _message_id(value: str, mailbox: str | None) -> str:
    """The msg_message URN when the id is a LinkedIn message id, else the vendor's own id."""
    if value.startswith(_MESSAGE_URN) and value.endswith(")"):
        return value  # already the canonical per-mailbox URN (messageId): nothing to rebuild
    try:
        ref = parse_message_id(value, mailbox_urn=mailbox)
    except InvalidIdentifier:
        return value
    return ref.urn or value


def _attachments(items: list[Any]) -> tuple[Attachment, ...]:
    return tuple(Attachment(a.type or "file", a.url, a.name) for a in items)


def _reactions(items: list[Any]) -> tuple[Reaction, ...]:
    return tuple(
        Reaction(
            r.emoji, 1 if r.count is None else r.count, r.viewer_reacted if type(r.viewer_reacted) is bool else None
        )
        for r in items
        if r.emoji
    )


def _message(p: MessagePayload, raw: Any, index: int, conversation_id: str | None, mailbox: str | None) -> Keyed:
    ident = p.message_id or p.message_urn or p.backend_message_urn
    if ident is None:
        raise shape_error(f"messages[{index}].messageId", "missing (no messageId, messageUrn or backendMessageUrn)")
    try:
        sent_at = parse_timestamp(p.sent_at)
    except ResponseShapeError as exc:
        raise shape_error(f"messages[{index}].sentAt", str(exc).partition(": ")[2]) from None
    owner = p.is_sent_by_owner if type(p.is_sent_by_owner) is bool else None
    s = p.sender
    if s is not None:
        sender = person(
            s.profile_id, s.name, s.headline, s.profile_url, s.profile_picture, s.participant_urn, mailbox, owner
        )
    else:
        sender = person(p.sender_profile_id, p.sender_name, None, None, p.sender_photo, None, mailbox, owner)
    message_id = _message_id(ident, mailbox)
    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        text=p.text or "",
        sent_at=sent_at,
        sender=sender,
        outgoing=sender.is_self,
        subject=p.subject,
        attachments=_attachments(p.attachments) if p.attachments else (),
        reactions=_reactions(p.reactions) if p.reactions else (),
        raw=raw,
    )
    return (p.sent_at if type(p.sent_at) is int else to_epoch_ms(sent_at)), message_id, message


def _legacy_message(
    p: LegacyMessagePayload, raw: Any, index: int, conversation_id: str | None, mailbox: str | None
) -> Keyed:
    path = f"conversationDetails.messages[{index}]"
    if p.message_urn is None:
        raise shape_error(f"{path}.messageUrn", "missing")
    try:
        sent_at = parse_timestamp(p.created_at)
    except ResponseShapeError as exc:
        raise shape_error(f"{path}.createdAt", str(exc).partition(": ")[2]) from None
    sender = person(p.sender, None, None, None, None, None, mailbox, None)
    message_id = _message_id(p.message_urn, mailbox)
    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        text=p.body or "",
        sent_at=sent_at,
        sender=sender,
        outgoing=sender.is_self,
        raw=raw,
    )
    return to_epoch_ms(sent_at), message_id, message


def messages(payload: MessagesPayload, data: Any, conversation_id: str | None, mailbox: str | None) -> list[Keyed]:
    """Messages of any documented conversation-details / conversation-messages shape, in the
    order sent, each as (epoch ms, id, Message)."""
    if payload.messages is not None:
        raws = _raw_items(data, "messages", len(payload.messages))
        return [
            _message(p, raw, i, conversation_id, mailbox)
            for i, (p, raw) in enumerate(zip(payload.messages, raws, strict=True))
        ]
    legacy = payload.conversation_details
    if legacy is not None and legacy.messages is not None:
        details = data.get("conversationDetails") if isinstance(data, dict) else None
        raws = _raw_items(details, "messages", len(legacy.messages))
        return [
            _legacy_message(p, raw, i, conversation_id, mailbox)
            for i, (p, raw) in enumerate(zip(legacy.messages, raws, strict=True))
        ]
    return []


# ----------------------------------------------------------- messages: hot path
#
# One pass over a top-level ``messages[]`` (Messaging / seed page and
# ``/conversations/{urn}/messages``), without building MessagePayload and
# PersonPayload first. It reads the keys the payload classes declare and
# accepts exactly what structure() accepts without coercion: str fields must be
# str or None, objects dicts, lists lists. Anything else (a missing id, an
# unreadable time, a coerced value, attachments or reactions it cannot take)
# makes it return None, and the caller redoes the whole page the declared way,
# which returns the same messages or raises the same ResponseShapeError.

_PAYLOAD_KEY = "linkmsg_key"  # the metadata key linkmsg.payload.field() stores the vendor key under


def vendor_keys(cls: type[Any]) -> dict[str, str]:
    """Attribute name -> JSON key, as a payload class declares it with ``field("jsonKey")``."""
    return {a.name: a.metadata.get(_PAYLOAD_KEY, a.name) for a in attrs.fields(cls)}


_M = vendor_keys(MessagePayload)
_P = vendor_keys(PersonPayload)
#: The MessagePayload fields the hot path reads (a test keeps this in step with the class).
FAST_MESSAGE_FIELDS = frozenset(_M)
_K_MESSAGE_ID = _M["message_id"]
_K_BACKEND_URN = _M["backend_message_urn"]
_K_MESSAGE_URN = _M["message_urn"]
_K_TEXT = _M["text"]
_K_SUBJECT = _M["subject"]
_K_SENT_AT = _M["sent_at"]
_K_SENDER = _M["sender"]
_K_SENDER_ID = _M["sender_profile_id"]
_K_SENDER_NAME = _M["sender_name"]
_K_SENDER_PHOTO = _M["sender_photo"]
_K_OWNER = _M["is_sent_by_owner"]
_K_ATTACHMENTS = _M["attachments"]
_K_REACTIONS = _M["reactions"]
_K_PROFILE_ID = _P["profile_id"]
_K_NAME = _P["name"]
_K_HEADLINE = _P["headline"]
_K_PROFILE_URL = _P["profile_url"]
_K_PICTURE = _P["profile_picture"]
_K_PARTICIPANT_URN = _P["participant_urn"]
_A = vendor_keys(AttachmentPayload)
_K_TYPE, _K_URL, _K_FILE_NAME = _A["type"], _A["url"], _A["name"]
_R = vendor_keys(ReactionPayload)
_K_EMOJI, _K_COUNT, _K_VIEWER_REACTED = _R["emoji"], _R["count"], _R["viewer_reacted"]
#: Below this many epoch ms (2106), ``ms / 1000`` is within half a microsecond of the exact
#: time, so datetime.fromtimestamp() gives exactly what parse_timestamp() gives (a property
#: test checks it), and a third cheaper.
_MS_FLOOR = 100_000_000_000  # ints at or above are epoch ms (see linkmsg.timestamps)
_EXACT_FLOAT_MS = 2**32 * 1000
_from_seconds = datetime.fromtimestamp
_UTC = UTC
_SENDER_SLOTS = 8  # distinct senders remembered per page; more go to person()'s cache
_str = str


#: Message's fields in the order the hot path passes them: positional arguments
#: cost a third less than keywords. Should the model's order ever differ, the
#: hot path builds by keyword instead (slower, never wrong).
_MESSAGE_FIELDS = (
    "id",
    "conversation_id",
    "text",
    "sent_at",
    "sender",
    "outgoing",
    "kind",
    "subject",
    "attachments",
    "reactions",
    "raw",
)
_TEXT = MessageKind.TEXT


def _message_by_keyword(*values: Any) -> Message:
    return Message(**dict(zip(_MESSAGE_FIELDS, values, strict=True)))


_new_message: Callable[..., Message] = (
    Message if tuple(a.name for a in attrs.fields(Message)) == _MESSAGE_FIELDS else _message_by_keyword
)


class _GiveUp(Exception):
    """The hot path does not take this page."""


def _opt_str(value: Any) -> Any:
    if value is None or value.__class__ is _str:
        return value
    raise _GiveUp


def first_message_ids(items: list[Any]) -> tuple[str | None, str | None]:
    """``messageId`` and ``messageUrn`` of the first item (what the mailbox is learned from);
    raises ValueError where structure() would fail."""
    if not items:
        return None, None
    first = items[0]
    if first.__class__ is not dict:
        raise ValueError("not an object")
    try:
        return _opt_str(first.get(_K_MESSAGE_ID)), _opt_str(first.get(_K_MESSAGE_URN))
    except _GiveUp:
        raise ValueError("not a string") from None


def _sender_of(s: Any, owner: bool | None, mailbox: str | None) -> Participant:
    """The Participant of a ``sender`` object, its members checked as PersonPayload does."""
    if s.__class__ is not dict:
        raise _GiveUp
    get = s.get
    return person(
        _opt_str(get(_K_PROFILE_ID)),
        _opt_str(get(_K_NAME)),
        _opt_str(get(_K_HEADLINE)),
        _opt_str(get(_K_PROFILE_URL)),
        _opt_str(get(_K_PICTURE)),
        _opt_str(get(_K_PARTICIPANT_URN)),
        mailbox,
        owner,
    )


def _fast_attachments(items: Any) -> tuple[Attachment, ...]:
    """``attachments[]`` checked as AttachmentPayload, mapped as :func:`_attachments`."""
    if items.__class__ is not list:
        raise _GiveUp
    out = []
    for a in items:
        if a.__class__ is not dict:
            raise _GiveUp
        get = a.get
        out.append(Attachment(_opt_str(get(_K_TYPE)) or "file", _opt_str(get(_K_URL)), _opt_str(get(_K_FILE_NAME))))
    return tuple(out)


def _fast_reactions(items: Any) -> tuple[Reaction, ...]:
    """``reactions[]`` checked as ReactionPayload, mapped as :func:`_reactions`."""
    if items.__class__ is not list:
        raise _GiveUp
    out = []
    for r in items:
        if r.__class__ is not dict:
            raise _GiveUp
        get = r.get
        emoji = _opt_str(get(_K_EMOJI))
        count = get(_K_COUNT)
        if count is not None and count.__class__ is not int:
            raise _GiveUp  # structure() coerces 2.0 and "2", or reports the path
        viewer = get(_K_VIEWER_REACTED)
        if emoji:
            out.append(Reaction(emoji, 1 if count is None else count, viewer if type(viewer) is bool else None))
    return tuple(out)


def fast_messages(items: list[Any], conversation_id: str | None, mailbox: str | None) -> list[Keyed] | None:
    """:func:`messages` of a page whose top-level ``messages`` is ``items``, in one pass;
    None when the page needs the declared path (see above)."""
    out: list[Keyed] = []
    append = out.append
    # (sender object or flat-sender tuple, isSentByOwner, Participant): a thread has
    # a few senders, and equal JSON means an already checked, equal sender.
    seen: list[tuple[Any, bool | None, Participant]] = []
    try:
        for m in items:
            if m.__class__ is not dict:
                return None
            get = m.get
            message_id = get(_K_MESSAGE_ID)
            message_urn = get(_K_MESSAGE_URN)
            backend_urn = get(_K_BACKEND_URN)
            text = get(_K_TEXT)
            subject = get(_K_SUBJECT)
            sender_id = get(_K_SENDER_ID)
            sender_name = get(_K_SENDER_NAME)
            sender_photo = get(_K_SENDER_PHOTO)
            if not (  # the usual value first: one test each
                (message_id.__class__ is _str or message_id is None)
                and (message_urn is None or message_urn.__class__ is _str)
                and (backend_urn.__class__ is _str or backend_urn is None)
                and (text.__class__ is _str or text is None)
                and (subject is None or subject.__class__ is _str)
                and (sender_id is None or sender_id.__class__ is _str)
                and (sender_name is None or sender_name.__class__ is _str)
                and (sender_photo is None or sender_photo.__class__ is _str)
            ):
                return None
            attachments = get(_K_ATTACHMENTS)
            reactions = get(_K_REACTIONS)
            if attachments is not None:
                attachments = _fast_attachments(attachments)
            if reactions is not None:
                reactions = _fast_reactions(reactions)
            ident = message_id or message_urn or backend_urn
            if ident is None:
                return None
            raw_time = get(_K_SENT_AT)
            if raw_time.__class__ is int and _MS_FLOOR <= raw_time < _EXACT_FLOAT_MS:  # epoch ms, as documented
                sent_at = _from_seconds(raw_time / 1000, _UTC)  # exact in this range (see _EXACT_FLOAT_MS)
            else:
                sent_at = parse_timestamp(raw_time)
            owner = get(_K_OWNER)
            if owner is not True and owner is not False:
                owner = None
            s = get(_K_SENDER)
            key: Any = s if s is not None else (sender_id, sender_name, sender_photo)
            sender = None
            for seen_key, seen_owner, seen_sender in seen:
                if seen_owner is owner and seen_key == key:
                    sender = seen_sender
                    break
            if sender is None:
                if s is not None:
                    sender = _sender_of(s, owner, mailbox)
                else:
                    sender = person(sender_id, sender_name, None, None, sender_photo, None, mailbox, owner)
                if len(seen) < _SENDER_SLOTS:
                    seen.append((key, owner, sender))
            if not (ident.startswith(_MESSAGE_URN) and ident.endswith(")")):
                ident = _message_id(ident, mailbox)
            append(
                (
                    raw_time if raw_time.__class__ is int else to_epoch_ms(sent_at),
                    ident,
                    _new_message(
                        ident,  # id
                        conversation_id,
                        text or "",  # text
                        sent_at,
                        sender,
                        sender.is_self,  # outgoing
                        _TEXT,  # kind
                        subject,
                        attachments or (),
                        reactions or (),
                        m,  # raw
                    ),
                )
            )
    except Exception:  # noqa: BLE001 - _GiveUp, or anything the declared path reports properly
        return None
    return out


# -------------------------------------------------------------------------- errors

# "Rate limit exceeded for CONNECT: 90/90 used. Resets at 2026-04-28T00:00:00Z"
_CAP_RE = re.compile(r"for\s+([A-Z_]+)\s*:\s*(\d+\s*/\s*\d+)\s+used", re.I)
_RESETS_RE = re.compile(r"resets at\s+(\S+?)\.?(?:\s|$)", re.I)
_CAP_WORDS = re.compile(r"per day|daily|per week|weekly|messages per|used\b", re.I)
_RATE_WORDS = re.compile(r"too many requests|requests per|request rate|per minute|per second", re.I)


def _error_text(body: ErrorPayload) -> str | None:
    error = body.error
    if isinstance(error, str) and error:
        return error
    if isinstance(error, dict):
        try:
            zod = structure(error, ZodErrorPayload, provider=PROVIDER, path="error")
        except ResponseShapeError:
            zod = ZodErrorPayload()
        if zod.issues:
            parts = []
            for issue in zod.issues:
                where = ".".join(str(p) for p in issue.path or ()) or "request"
                parts.append(f"{where}: {issue.message or 'invalid'}")
            return f"{zod.name or 'validation error'}: " + "; ".join(parts)
        if zod.message:
            return zod.message
    if isinstance(body.message, str) and body.message:
        return body.message
    return None


def _seconds_until(value: Any, now: float) -> float | None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    try:
        when = parse_timestamp(value)
    except ResponseShapeError:
        return None
    return max(0.0, when.timestamp() - now)


def _rate_limit(status: int | None, body: ErrorPayload, text: str | None, headers: Any) -> RateLimitError:
    now = time.time()
    retry_after = _seconds_until(body.hold_until, now)
    resets = _RESETS_RE.search(text or "")
    if retry_after is None and resets is not None:
        retry_after = _seconds_until(resets.group(1), now)
    cap = _CAP_RE.search(text or "")
    action = headers.get("x-ratelimit-action") if hasattr(headers, "get") else None
    if cap is not None or action or body.hold_until is not None or _CAP_WORDS.search(text or ""):
        what = (cap.group(1) if cap else (action or "action")).upper()
        used = f" ({cap.group(2)} used)" if cap else ""
        period = "daily message cap (100-150 per account)" if what == "MESSAGE" else f"{what} cap"
        why = (
            f"the LinkedIn account's {period} is used up{used}: a per-account limit, "
            "not a request-rate limit; wait for the reset"
        )
    elif _RATE_WORDS.search(text or ""):
        why = (
            "too many API requests in a short time (the request-rate limit, not the daily cap); "
            "slow down or set rate_limit="
        )
    else:
        why = "rate limited; retry later"
    when = f" (retry in {retry_after:.0f} s)" if retry_after is not None else ""
    shown = f"HTTP {status}" if status is not None else "success: false"
    return RateLimitError(
        f"{PROVIDER} {shown}: {text or 'rate limit exceeded'}: {why}{when}",
        retry_after=retry_after,
        provider=PROVIDER,
        status=status,
        code=body.code if isinstance(body.code, str) else None,
        vendor_message=text,
    )


def error_for(response: Response) -> ProviderError | None:
    """The typed error a response stands for, or None (hot path: one check per success)."""
    data = response.data
    status: int | None = response.status
    if status is not None and status < 400:
        if type(data) is not dict or data.get("success") is not False:
            return None
        status = None  # an error inside a 2xx body
    try:
        body = structure(data, ErrorPayload, provider=PROVIDER) if isinstance(data, dict) else ErrorPayload()
    except ResponseShapeError:
        body = ErrorPayload()
    text = _error_text(body)
    code = body.code if isinstance(body.code, str) else None
    said = f": {text}" if text else ""
    if status == 429 or (status is None and (body.hold_until is not None or "rate limit" in (text or "").lower())):
        return _rate_limit(status, body, text, response.headers)
    if status is None:
        return ProviderError(
            f"{PROVIDER} answered success: false{said or ' without a reason'}; the request was not carried out",
            provider=PROVIDER,
            code=code,
            vendor_message=text,
        )
    if status == 400:
        message = f"{PROVIDER} rejected the request as invalid (HTTP 400{said}); check the arguments named there"
    elif status == 401:
        message = (
            f"{PROVIDER} rejected the API key (HTTP 401{said}); check api_key "
            "(keys are created at https://connectsafely.ai/api-key)"
        )
    elif status == 403:
        if "/send-group" in response.url:
            hint = "LinkedIn does not allow messaging this member through that group; both must belong to it"
        else:
            hint = (
                "the key is valid but may not use the API: the trial has expired or no subscription / API seat "
                "is allocated to this LinkedIn account; renew the plan or allocate a seat in the ConnectSafely "
                "dashboard, then retry"
            )
        return PermissionDeniedError(
            f"{PROVIDER} refused the request (HTTP 403{said}): {hint}",
            provider=PROVIDER,
            status=status,
            code=code,
            vendor_message=text,
        )
    elif status == 404:
        message = (
            f"{PROVIDER} found nothing (HTTP 404{said}): the conversation, profile or LinkedIn account does not "
            "exist or is not reachable with this key; check the id and account_id"
        )
    elif status >= 500:
        message = f"{PROVIDER} failed (HTTP {status}{said}); reads are retried, otherwise try again later"
    else:
        message = f"{PROVIDER} answered HTTP {status}{said}"
    return error_from_status(status, message, provider=PROVIDER, code=code, vendor_message=text)
