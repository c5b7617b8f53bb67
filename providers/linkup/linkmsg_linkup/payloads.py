"""LinkupAPI v1 response envelopes (vendors.md §3), structured with cattrs.

The conversation and message entries themselves live in
:mod:`linkmsg_linkup.common`, shared with v2. Attribute names equal the vendor
keys, so a shape error's path is the vendor's path (``data.messages[2].timestamp``).
"""

from __future__ import annotations

from typing import Any

import attrs

from linkmsg_linkup.common import LinkupConversation, LinkupMessage, LinkupSent

__all__ = [
    "HistoryData",
    "HistoryPagination",
    "HistoryResponse",
    "InboxData",
    "InboxResponse",
    "SendResponse",
    "StatusBody",
    "ValidationIssue",
]


@attrs.frozen(slots=True)
class InboxData:
    conversations: list[LinkupConversation]
    total_results: int | None = None  # the count in THIS response, not a grand total
    next_cursor: str | None = None  # null (or absent, before 2025-06) at the end


@attrs.frozen(slots=True)
class InboxResponse:
    """``POST /v1/messages/inbox``."""

    data: InboxData
    status: str | None = None


@attrs.frozen(slots=True)
class HistoryPagination:
    """Either scheme of ``data.pagination``.

    Cursor mode (since 2026-01-30): ``count``, ``has_next_page``, ``next_cursor``.
    Page mode (2025-04 to 2026-01): ``start_page``, ``end_page``,
    ``messages_per_page``, ``pages_fetched``.
    """

    count: int | None = None
    has_next_page: bool | None = None
    next_cursor: Any = None  # an epoch-ms string
    start_page: int | None = None
    end_page: int | None = None
    messages_per_page: int | None = None
    pages_fetched: int | None = None

    @property
    def is_page_mode(self) -> bool:
        return self.messages_per_page is not None or self.start_page is not None


@attrs.frozen(slots=True)
class HistoryData:
    messages: list[LinkupMessage]
    conversation_id: str | None = None
    profile_url: str | None = None
    total_results: int | None = None
    unread_count: int | None = None
    pagination: HistoryPagination | None = None


@attrs.frozen(slots=True)
class HistoryResponse:
    """``POST /v1/messages/conversation``."""

    data: HistoryData
    status: str | None = None


@attrs.frozen(slots=True)
class SendResponse:
    """``POST /v1/messages/send-message``: ``data`` only since 2025-07-28."""

    status: str | None = None
    message: str | None = None
    data: LinkupSent | None = None


@attrs.frozen(slots=True)
class StatusBody:
    """Any v1 body, read for its error signals: ``{status, message}`` or FastAPI's ``{detail}``."""

    status: Any = None
    message: Any = None
    detail: Any = None  # a list of ValidationIssue, or a plain string
    data: Any = None


@attrs.frozen(slots=True)
class ValidationIssue:
    """One entry of a FastAPI 422 ``detail``. Its ``input`` (an echo of the body) is never read."""

    loc: list[Any] = attrs.field(factory=list)
    msg: str | None = None
    type: str | None = None
