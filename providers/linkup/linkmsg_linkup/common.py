"""What LinkupAPI v1 and v2 have in common: payload classes, credits, countries.

``linkmsg-linkup-v2`` (package ``linkmsg_linkup_v2``) imports this module, so
its names are a public, stable interface: add fields with defaults, never
rename or remove. v1 and v2 render a classic LinkedIn conversation and message
the same way (the v2 action API wraps the v1 shapes in its own envelope):

* a conversation has ONE ``participant`` (the other side) and a
  ``last_message`` whose ``sender`` is a person object;
* a message's ``sender`` is a display-name string, with ``sender_info``
  holding first/last name (v2 adds ``profile_url`` and, in Sales Navigator
  mode, ``is_me``); times are epoch milliseconds; ``entity_urn`` is the
  ``msg_message`` URN;
* lists cost 1 credit per 10 results or fraction, a send 1 credit (2 with media).

Attribute names equal the vendor keys (both APIs use snake_case), so a
:class:`~linkmsg.errors.ResponseShapeError` path names the vendor key.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from linkmsg.errors import InvalidIdentifier
from linkmsg.identity import parse_profile
from linkmsg.model import MessageKind, Participant
from linkmsg.payload import field

__all__ = [
    "COUNTRIES",
    "DEFAULT_COUNTRY",
    "RESULTS_PER_CREDIT",
    "SEND_CREDITS",
    "SEND_WITH_MEDIA_CREDITS",
    "LinkupConversation",
    "LinkupLastMessage",
    "LinkupMessage",
    "LinkupPerson",
    "LinkupSenderInfo",
    "LinkupSent",
    "credits_for_results",
    "message_kind",
    "participant_from_person",
    "profile_ids",
    "send_credits",
]

#: Proxy countries, newest documented list (older pages list only US, UK, FR).
COUNTRIES: Final[tuple[str, ...]] = ("US", "UK", "FR", "DE", "NL", "IT", "IL", "CA", "BR", "ES", "IN")
DEFAULT_COUNTRY: Final = "FR"

RESULTS_PER_CREDIT: Final = 10
SEND_CREDITS: Final = 1
SEND_WITH_MEDIA_CREDITS: Final = 2


def credits_for_results(count: int) -> int:
    """Credits a list call costs: 1 per 10 results or fraction (0 for none)."""
    return -(-max(count, 0) // RESULTS_PER_CREDIT)


def send_credits(with_media: bool) -> int:
    """Credits a send costs: 1 for text, 2 with a media file."""
    return SEND_WITH_MEDIA_CREDITS if with_media else SEND_CREDITS


# ---------------------------------------------------------------- payloads


@attrs.frozen(slots=True)
class LinkupPerson:
    """``participant`` and ``last_message.sender`` of an inbox conversation."""

    name: str | None = None
    headline: str | None = None
    profile_url: str | None = None
    profile_picture: str | None = None
    first_name: str | None = None  # v2 Sales Navigator
    last_name: str | None = None  # v2 Sales Navigator
    is_me: bool | None = None  # v2 only


@attrs.frozen(slots=True)
class LinkupLastMessage:
    """``last_message`` of an inbox conversation. ``time`` is epoch ms."""

    text: str | None = None
    time: Any = None
    sender: LinkupPerson | None = None
    subject: str | None = None  # v2 Sales Navigator


@attrs.frozen(slots=True)
class LinkupConversation:
    """One entry of ``data.conversations``."""

    conversation_id: str
    participant: LinkupPerson | None = None
    last_message: LinkupLastMessage | None = None
    unread: int | None = None
    type: str | None = None


@attrs.frozen(slots=True)
class LinkupSenderInfo:
    """``sender_info`` of a message: v1 has only the names."""

    first_name: str | None = None
    last_name: str | None = None
    profile_url: str | None = None  # v2
    is_me: bool | None = None  # v2 Sales Navigator


@attrs.frozen(slots=True)
class LinkupMessage:
    """One entry of ``data.messages``, newest first. ``timestamp`` is epoch ms."""

    timestamp: Any
    entity_urn: str
    text: str | None = None
    sender: str | None = None
    sender_info: LinkupSenderInfo | None = None
    message_type: str | None = None


@attrs.frozen(slots=True)
class LinkupSent:
    """``data`` of a send answer (absent in older v1 answers)."""

    entity_urn: str | None = field("entityUrn", default=None)
    conversation_id: str | None = None
    # An attrs field read from "deliveredAt" (ruff takes it for a dataclass default).
    # An epoch-ms int; the first v2 docs page shows an ISO string.
    delivered_at: Any = field("deliveredAt", default=None)


# ---------------------------------------------------------------- mapping helpers

_KINDS: Final[dict[str, MessageKind]] = {
    "TEXT": MessageKind.TEXT,
    "MESSAGE": MessageKind.TEXT,
    "SYSTEM": MessageKind.SYSTEM,
    "INVITATION": MessageKind.INVITATION,
    "SHARED_POST": MessageKind.SHARED_POST,
    "MEDIA": MessageKind.MEDIA,
    "INMAIL": MessageKind.INMAIL,
    "INMAIL_ACCEPT": MessageKind.INMAIL,
    "INMAIL_REPLY": MessageKind.INMAIL,
}


def message_kind(message_type: str | None) -> MessageKind:
    """The kind for a ``message_type``; absent means text, unknown values are OTHER."""
    if message_type is None:
        return MessageKind.TEXT
    return _KINDS.get(message_type.upper(), MessageKind.OTHER)


def profile_ids(profile_url: str | None) -> tuple[str | None, str | None]:
    """(fsd_profile URN, vanity slug) read from a profile URL; (None, None) if unreadable.

    An odd URL must not fail a whole page, so it simply yields no ids.
    """
    if not profile_url:
        return None, None
    try:
        ref = parse_profile(profile_url)
    except InvalidIdentifier:
        return None, None
    return ref.urn, ref.public_id


def participant_from_person(person: LinkupPerson, *, is_self: bool | None = None) -> Participant:
    """A :class:`Participant` from a person object; ids come from its profile URL only."""
    urn, public_id = profile_ids(person.profile_url)
    return Participant(
        id=urn or public_id,
        urn=urn,
        public_id=public_id,
        name=person.name,
        first_name=person.first_name,
        last_name=person.last_name,
        headline=person.headline,
        profile_url=person.profile_url,
        picture_url=person.profile_picture,
        is_self=person.is_me if person.is_me is not None else is_self,
    )
