"""LinkupAPI v2 response bodies (vendors.md §4), structured with cattrs.

The v2 action API wraps the v1 conversation and message objects in its own
``{success, data, metadata}`` envelope, so the classic shapes come from
:mod:`linkmsg_linkup.common`; the classes here add only what v2 adds (Sales
Navigator and Recruiter fields, attachments, the InMail send ids) and the
envelopes. Attribute names equal the vendor keys, so a shape error's path is
the vendor's path (``data.messages[2].timestamp``).
"""

from __future__ import annotations

from typing import Any

import attrs
from linkmsg_linkup.common import (
    LinkupConversation,
    LinkupLastMessage,
    LinkupMessage,
    LinkupPerson,
    LinkupSenderInfo,
    LinkupSent,
)

from linkmsg.payload import field

__all__ = [
    "ErrorDetail",
    "ErrorEnvelope",
    "HistoryData",
    "HistoryResponse",
    "InMailIds",
    "InboxData",
    "InboxResponse",
    "Metadata",
    "SendData",
    "SendResponse",
    "V2Attachment",
    "V2Conversation",
    "V2LastMessage",
    "V2Message",
    "V2Person",
    "V2SenderInfo",
    "V2Sent",
]


@attrs.frozen(slots=True)
class Metadata:
    """``metadata`` of every answer; ``credits_consumed`` is 0 for errors."""

    action: Any = None
    credits_consumed: Any = None  # a number; 0.1 for inbox_summary


@attrs.frozen(slots=True)
class ErrorDetail:
    code: str | None = None
    message: str | None = None


@attrs.frozen(slots=True)
class ErrorEnvelope:
    """Any answer, read only for its error signals (``success: false`` can come with HTTP 200)."""

    success: Any = None
    error: ErrorDetail | None = None


# ---------------------------------------------------------------- list_inbox


@attrs.frozen(slots=True)
class V2Person(LinkupPerson):
    """A participant or sender; Sales Navigator adds the lead URN and URL."""

    recipient_urn: str | None = None  # urn:li:fs_salesProfile:(ACwAA…,NAME_SEARCH,…)
    sales_nav_url: str | None = None
    connection_level: Any = None  # "2" in the example
    is_organization: bool | None = None


@attrs.frozen(slots=True)
class V2LastMessage(LinkupLastMessage):
    sender: V2Person | None = None


@attrs.frozen(slots=True)
class V2Conversation(LinkupConversation):
    """One ``data.conversations`` entry: classic, or Sales Navigator (bare thread id)."""

    participant: V2Person | None = None
    last_message: V2LastMessage | None = None
    total_message_count: int | None = None
    archived: bool | None = None


@attrs.frozen(slots=True)
class InboxData:
    conversations: list[V2Conversation]
    total_results: int | None = None  # the count in THIS page
    next_cursor: Any = None  # opaque string (classic) or ms string (Sales Nav); null at the end


@attrs.frozen(slots=True)
class InboxResponse:
    data: InboxData
    metadata: Metadata | None = None


# ---------------------------------------------------------------- get_conversation


@attrs.frozen(slots=True)
class V2SenderInfo(LinkupSenderInfo):
    recipient_urn: str | None = None  # Sales Navigator
    name: str | None = None  # email mode (which also has ``email``)


@attrs.frozen(slots=True)
class V2Attachment:
    """Later revision: ``url`` is signed and short-lived, ``download_url`` goes through the API."""

    type: str | None = None  # image | file | audio | video | gif
    url: str | None = None
    name: str | None = None
    mime_type: str | None = None
    byte_size: int | None = None
    asset_urn: str | None = None
    download_url: str | None = None


@attrs.frozen(slots=True)
class V2Message(LinkupMessage):
    """One ``data.messages`` entry, newest first.

    Classic and Sales Navigator: ``timestamp`` (ms) and ``sender`` (a display
    name). Recruiter: ``time`` (ms) and ``sender`` as a person object. So
    neither time key is required here; the mapping requires one of them.
    """

    timestamp: Any = None
    time: Any = None
    sender: Any = None  # str (classic, Sales Nav) or a person object (Recruiter)
    sender_info: V2SenderInfo | None = None
    subject: str | None = None
    # Later revision. (``has_attachments`` just restates it; ``content_flag``
    # DELETED comes with an empty text. Neither is read: fewer fields, faster structuring.)
    attachments: list[V2Attachment] | None = None


@attrs.frozen(slots=True)
class HistoryData:
    messages: list[V2Message]
    # Classic: present while older messages exist, ABSENT at the end. Sales Nav: never present.
    next_cursor: Any = None
    total_message_count: int | None = None
    unread_count: int | None = None
    conversation_id: str | None = None  # Sales Navigator
    type: str | None = None  # Sales Navigator
    participants: list[V2Person] | None = None  # Sales Navigator
    marked_as_read: bool | None = None  # later revision, with mark_as_read
    mark_as_read_error: Any = None


@attrs.frozen(slots=True)
class HistoryResponse:
    data: HistoryData
    metadata: Metadata | None = None


# ---------------------------------------------------------------- send


@attrs.frozen(slots=True)
class InMailIds:
    thread_id: str | None = field("threadId", default=None)
    message_id: str | None = field("messageId", default=None)


@attrs.frozen(slots=True)
class V2Sent(LinkupSent):
    """``data.data`` of a send: message ids (current docs) or ``value`` (InMail)."""

    value: InMailIds | None = None


@attrs.frozen(slots=True)
class SendData(LinkupSent):
    """``data`` of a send. The first v2 docs put the ids here (flat, ISO time); later ones nest them in ``data``."""

    status: str | None = None
    message: str | None = None
    recipient_urn: str | None = None
    data: V2Sent | None = None


@attrs.frozen(slots=True)
class SendResponse:
    data: SendData
    metadata: Metadata | None = None
