"""ConnectSafely JSON as attrs classes, one class per documented object.

ConnectSafely has three documentation generations, and one URL has answered
with different shapes over time (vendors.md §2.2, §6). Each class therefore
carries the union of the keys its object has had, all optional: which shape
arrived is decided in :mod:`linkmsg_connectsafely.mapping`, from the keys that
are present. Times, booleans and the ``error`` member are typed ``Any``
because their JSON type differs between generations (epoch ms or ISO string,
``true`` or ``"true"``, string or object); the mapping validates them.
"""

# linkmsg.payload.field is attrs.field with a vendor key; ruff takes it for a dataclass default.

from __future__ import annotations

from typing import Any

import attrs

from linkmsg.payload import field

__all__ = [
    "AttachmentPayload",
    "ConversationListPayload",
    "ConversationPayload",
    "ErrorPayload",
    "LatestMessagePayload",
    "LegacyDetailsPayload",
    "LegacyMessagePayload",
    "MessagePayload",
    "MessagesHeadPayload",
    "MessagesPayload",
    "PaginationPayload",
    "PersonPayload",
    "ReactionPayload",
    "ZodErrorPayload",
    "ZodIssuePayload",
]


@attrs.frozen(slots=True)
class PersonPayload:
    """``participants[]`` of every listing, and the ``sender`` object of a message."""

    profile_id: str | None = field("profileId", default=None)
    name: str | None = field("name", default=None)
    headline: str | None = field("headline", default=None)
    profile_url: str | None = field("profileUrl", default=None)
    profile_picture: str | None = field("profilePicture", default=None)
    participant_urn: str | None = field("participantUrn", default=None)


# ------------------------------------------------------------------ conversations


@attrs.frozen(slots=True)
class LatestMessagePayload:
    """``latestMessage``: a preview without an id (§2.3.1; ``{}`` in §2.3.3)."""

    text: str | None = field("text", default=None)
    sent_at: Any = field("sentAt", default=None)
    sender_name: str | None = field("senderName", default=None)
    has_attachment: Any = field("hasAttachment", default=None)


@attrs.frozen(slots=True)
class ConversationPayload:
    """One conversation of recent-messages (legacy, Messaging page) or ``/conversations``.

    ``conversationId`` is a ``messagingThread`` URN (legacy), a bare thread id
    (Messaging page) or a ``conv_…`` database id (``/conversations``).
    """

    conversation_id: str | None = field("conversationId", default=None)
    conversation_urn: str | None = field("conversationUrn", default=None)
    backend_conversation_urn: str | None = field("backendConversationUrn", default=None)
    conversation_url: str | None = field("conversationUrl", default=None)
    participants: list[PersonPayload] | None = field("participants", default=None)
    unread_count: int | None = field("unreadCount", default=None)
    last_activity_at: Any = field("lastActivityAt", default=None)
    latest_message: LatestMessagePayload | None = field("latestMessage", default=None)


@attrs.frozen(slots=True)
class ConversationListPayload:
    """``GET /linkedin/messaging/recent-messages`` and, after its 307, ``GET /linkedin/conversations``."""

    profile_urn: str | None = field("profileUrn", default=None)
    total: int | None = field("total", default=None)
    next_cursor: str | None = field("nextCursor", default=None)
    has_more: Any = field("hasMore", default=None)
    conversations: list[ConversationPayload] | None = field("conversations", default=None)


# ------------------------------------------------------------------------ messages


@attrs.frozen(slots=True)
class AttachmentPayload:
    type: str | None = field("type", default=None)
    url: str | None = field("url", default=None)
    name: str | None = field("name", default=None)


@attrs.frozen(slots=True)
class ReactionPayload:
    emoji: str | None = field("emoji", default=None)
    count: int | None = field("count", default=None)
    viewer_reacted: Any = field("viewerReacted", default=None)


@attrs.frozen(slots=True)
class MessagePayload:
    """A top-level ``messages[]`` item.

    Messaging page / seed page: ``messageId`` (msg_message URN),
    ``backendMessageUrn``, ``text``, ``subject``, ``sentAt`` (ms), ``sender``
    object, ``attachments``, ``reactions``. ``/conversations/{urn}/messages``:
    ``messageUrn``, ``text``, ``sentAt`` and a flat sender
    (``senderProfileId``, ``senderName``, ``senderPhoto``, ``isSentByOwner``).
    """

    message_id: str | None = field("messageId", default=None)
    backend_message_urn: str | None = field("backendMessageUrn", default=None)
    message_urn: str | None = field("messageUrn", default=None)
    text: str | None = field("text", default=None)
    subject: str | None = field("subject", default=None)
    sent_at: Any = field("sentAt", default=None)
    sender: PersonPayload | None = field("sender", default=None)
    sender_profile_id: str | None = field("senderProfileId", default=None)
    sender_name: str | None = field("senderName", default=None)
    sender_photo: str | None = field("senderPhoto", default=None)
    is_sent_by_owner: Any = field("isSentByOwner", default=None)
    attachments: list[AttachmentPayload] | None = field("attachments", default=None)
    reactions: list[ReactionPayload] | None = field("reactions", default=None)


@attrs.frozen(slots=True)
class LegacyMessagePayload:
    """``conversationDetails.messages[]`` (legacy crawl A): sender is a profile URN string, time ISO."""

    message_urn: str | None = field("messageUrn", default=None)
    body: str | None = field("body", default=None)
    sender: str | None = field("sender", default=None)
    created_at: Any = field("createdAt", default=None)


@attrs.frozen(slots=True)
class LegacyDetailsPayload:
    messages: list[LegacyMessagePayload] | None = field("messages", default=None)


@attrs.frozen(slots=True)
class PaginationPayload:
    """``pagination`` of conversation-details (seed page)."""

    has_more_before: Any = field("hasMoreBefore", default=None)


@attrs.frozen(slots=True)
class MessagesPayload:
    """conversation-details (legacy crawl A, Messaging page) and ``/conversations/{urn}/messages``."""

    profile_urn: str | None = field("profileUrn", default=None)
    conversation_urn: str | None = field("conversationUrn", default=None)
    total: int | None = field("total", default=None)
    messages: list[MessagePayload] | None = field("messages", default=None)
    conversation_details: LegacyDetailsPayload | None = field("conversationDetails", default=None)
    participants: list[PersonPayload] | None = field("participants", default=None)
    pagination: PaginationPayload | None = field("pagination", default=None)
    has_more: Any = field("hasMore", default=None)


@attrs.frozen(slots=True)
class MessagesHeadPayload:
    """:class:`MessagesPayload` without its top-level ``messages[]`` (same fields, same keys).

    The history hot path structures this and maps ``messages[]`` in one pass
    (:func:`linkmsg_connectsafely.mapping.fast_messages`). Not a base class of
    MessagesPayload so that one keeps its field order, hence its error reports.
    """

    profile_urn: str | None = field("profileUrn", default=None)
    conversation_urn: str | None = field("conversationUrn", default=None)
    total: int | None = field("total", default=None)
    conversation_details: LegacyDetailsPayload | None = field("conversationDetails", default=None)
    participants: list[PersonPayload] | None = field("participants", default=None)
    pagination: PaginationPayload | None = field("pagination", default=None)
    has_more: Any = field("hasMore", default=None)


# -------------------------------------------------------------------------- errors


@attrs.frozen(slots=True)
class ZodIssuePayload:
    path: list[Any] | None = field("path", default=None)
    message: str | None = field("message", default=None)


@attrs.frozen(slots=True)
class ZodErrorPayload:
    """``error`` as an object: ``{"name": "ZodError", "issues": [...]}`` (or ``{"message": ...}``)."""

    name: str | None = field("name", default=None)
    message: str | None = field("message", default=None)
    issues: list[ZodIssuePayload] | None = field("issues", default=None)


@attrs.frozen(slots=True)
class ErrorPayload:
    """Every documented error body: ``{success:false,error:"…"}``, ``{error:"…"}``,
    ``{success:false,error:{name,issues}}``, ``{success:false,code,message}``,
    and the 429 body with ``holdUntil``."""

    success: Any = field("success", default=None)
    error: Any = field("error", default=None)
    code: Any = field("code", default=None)
    message: Any = field("message", default=None)
    hold_until: Any = field("holdUntil", default=None)
