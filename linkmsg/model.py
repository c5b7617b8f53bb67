"""The vendor-neutral value classes every provider maps into.

All classes are frozen and slotted. ``raw`` keeps the vendor payload for
debugging and vendor-specific fields, and is excluded from equality and hashing
so the same thread read through two vendors compares equal.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

__all__ = [
    "Attachment",
    "Capability",
    "Conversation",
    "Message",
    "MessageKind",
    "Page",
    "Participant",
    "Reaction",
    "SendResult",
]

T = TypeVar("T")


class MessageKind(enum.StrEnum):
    """What a message is. Compares equal to its lowercase string value."""

    TEXT = "text"
    INVITATION = "invitation"
    SHARED_POST = "shared_post"
    INMAIL = "inmail"
    MEDIA = "media"
    SYSTEM = "system"
    OTHER = "other"


class Capability(enum.StrEnum):
    """What a provider can do; the client checks these before any request."""

    LIST_CONVERSATIONS = "list_conversations"
    FILTER_UNREAD = "filter_unread"
    FILTER_KEYWORDS = "filter_keywords"
    READ_HISTORY = "read_history"
    SEND_TO_PROFILE = "send_to_profile"
    REPLY_IN_CONVERSATION = "reply_in_conversation"
    GROUP_SEND = "group_send"
    TYPING = "typing"
    DELIVERY_ACK = "delivery_ack"
    INMAIL = "inmail"
    MARK_READ = "mark_read"
    MEDIA = "media"
    CREDITS = "credits"


@attrs.frozen(slots=True)
class Participant:
    """A person (or organisation) in a conversation."""

    id: str | None = None
    urn: str | None = None
    public_id: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    headline: str | None = None
    profile_url: str | None = None
    picture_url: str | None = None
    is_self: bool | None = None


@attrs.frozen(slots=True)
class Attachment:
    kind: str
    url: str | None = None
    name: str | None = None


@attrs.frozen(slots=True)
class Reaction:
    emoji: str
    count: int = 1
    viewer_reacted: bool | None = None


@attrs.frozen(slots=True)
class Message:
    id: str | None
    conversation_id: str | None
    text: str
    sent_at: datetime
    sender: Participant
    outgoing: bool | None = None
    kind: MessageKind = MessageKind.TEXT
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    raw: Any = attrs.field(default=None, eq=False, hash=False, repr=False)


@attrs.frozen(slots=True)
class Conversation:
    id: str
    thread_id: str | None
    participants: tuple[Participant, ...] = ()
    unread_count: int | None = None
    last_activity_at: datetime | None = None
    latest_message: Message | None = None
    category: str | None = None
    raw: Any = attrs.field(default=None, eq=False, hash=False, repr=False)


@attrs.frozen(slots=True)
class Page(Generic[T]):
    """One page of a listing. Pass ``next_cursor`` back to get the next one."""

    items: tuple[T, ...]
    next_cursor: str | None = None
    has_more: bool = False
    total: int | None = None
    credits_used: float | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@attrs.frozen(slots=True)
class SendResult:
    """What a vendor reported about a send.

    ``message_id`` is None when the vendor does not return the new message's id
    (linkmsg never invents one). ``delivered`` is None when the vendor does not say.
    """

    conversation_id: str | None
    message_id: str | None
    sent_at: datetime | None
    delivered: bool | None = None
    credits_used: float | None = None
    raw: Mapping[str, Any] | None = attrs.field(default=None, eq=False, hash=False, repr=False)
