"""The ``linkup`` provider: LinkupAPI v1 (``POST /v1/messages/*``, vendors.md §3).

Every call is a POST with a JSON body. The API key goes in ``x-api-key``; the
LinkedIn session (``login_token``) and the proxy ``country`` go in every body,
through :meth:`LinkupProvider.auth_body`, so they never reach a URL or a log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar, Final

import attrs

from linkmsg.errors import (
    InvalidArgument,
    InvalidCursor,
    LinkmsgError,
    NotFoundError,
    ProviderError,
    UnsupportedOperation,
)
from linkmsg.identity import ProfileRef
from linkmsg.model import Capability, Conversation, Message, SendResult
from linkmsg.paging import TimeAnchor
from linkmsg.provider import (
    ConversationTarget,
    HTTPSettings,
    Operation,
    Position,
    Provider,
    Request,
    Response,
    SendRequest,
    Settings,
    VendorPage,
    secret,
    spent_before,
)
from linkmsg_linkup.common import COUNTRIES, DEFAULT_COUNTRY, credits_for_results
from linkmsg_linkup.errors import error_from_body
from linkmsg_linkup.mapping import HistoryPage, SenderHints, is_group, read_history, read_inbox, read_send

__all__ = ["DEFAULT_BASE_URL", "LinkupProvider", "LinkupSettings"]

DEFAULT_BASE_URL: Final = "https://api.linkupapi.com"
INBOX_PATH: Final = "/v1/messages/inbox"
HISTORY_PATH: Final = "/v1/messages/conversation"
SEND_PATH: Final = "/v1/messages/send-message"
#: The ``category`` option; UNREAD is asked with ``unread=True``.
CATEGORIES: Final = {"inbox": "INBOX", "inmail": "INMAIL", "job": "JOB"}
#: Replying without a Conversation object reads at most this many inbox pages
#: (of ``max_page_size``) to find the other participant's profile.
REPLY_LOOKUP_PAGES: Final = 3
_MESSAGES_PER_PAGE: Final = 10  # page mode, fixed by the vendor


def _required_text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # The value is a credential: the message names the setting, never the value.
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-empty string")


def _country(value: Any) -> str:
    code = value.strip().upper() if isinstance(value, str) else value
    if code not in COUNTRIES:
        raise ValueError(f"country must be one of {', '.join(COUNTRIES)} (LinkupAPI proxy countries), got {value!r}")
    return str(code)


@attrs.frozen(kw_only=True, slots=True)
class LinkupSettings(HTTPSettings):
    """``api_key`` (sent as ``x-api-key``), ``login_token`` (the LinkedIn session
    cookie from ``/v1/auth/login`` + ``/v1/auth/verify``, sent in each JSON
    body), ``country`` (proxy country, default FR), plus the transport settings."""

    api_key: str = secret(validator=_required_text)
    login_token: str = secret(validator=_required_text)
    country: str = attrs.field(default=DEFAULT_COUNTRY, converter=_country)
    base_url: str = DEFAULT_BASE_URL

    def account_key(self) -> str:
        """One LinkedIn session is one account; keyed by a hash so the token stays secret."""
        digest = hashlib.sha256(self.login_token.encode()).hexdigest()[:16]
        return f"{self.base_url}#{digest}"


def _history_position(position: Position | None) -> tuple[TimeAnchor | None, int | None]:
    """(cursor-mode anchor, page-mode offset): at most one is set."""
    if position is None:
        return None, None
    if isinstance(position, dict) and "offset" in position:
        offset = position["offset"]
        if isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0:
            return None, offset
        raise InvalidCursor("cursor does not hold a message page position")
    return TimeAnchor.from_position(position), None


def _id_of(message: Message) -> str:
    return message.id or ""  # history messages always carry entity_urn


def _vendor_ms(value: Any) -> int | None:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text) if text.isascii() and text.isdigit() else None


class LinkupProvider(Provider):
    """LinkupAPI v1. Keyword filtering is emulated on each page by linkmsg (the
    vendor has none); a reply in a conversation is sent to its other participant's
    profile, because v1 addresses sends by profile only."""

    name: ClassVar[str] = "linkup"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.LIST_CONVERSATIONS,
            Capability.FILTER_UNREAD,
            Capability.FILTER_KEYWORDS,
            Capability.READ_HISTORY,
            Capability.SEND_TO_PROFILE,
            Capability.REPLY_IN_CONVERSATION,
            Capability.MEDIA,
            Capability.CREDITS,
        }
    )
    emulated: ClassVar[frozenset[Capability]] = frozenset({Capability.FILTER_KEYWORDS})
    settings_class: ClassVar[type[Settings]] = LinkupSettings
    # Credits are charged per 10 results, so pages are multiples of 10.
    default_page_size: ClassVar[int] = 20
    max_page_size: ClassVar[int] = 100
    conversation_options: ClassVar[frozenset[str]] = frozenset({"category"})

    def __init__(self, settings: Settings) -> None:
        if not isinstance(settings, LinkupSettings):
            raise TypeError("LinkupProvider needs LinkupSettings")
        super().__init__(settings)
        self._settings = settings
        # v1 has no account id: the mailbox is learned from the first conversation URN seen.
        self._mailbox: str | None = None

    # -- transport hooks -------------------------------------------------

    def auth_headers(self) -> Mapping[str, str]:
        return {"x-api-key": self._settings.api_key}

    def auth_body(self) -> Mapping[str, Any]:
        return {"login_token": self._settings.login_token, "country": self._settings.country}

    def error_for(self, response: Response) -> ProviderError | None:
        return error_from_body(response.status, response.data)

    @property
    def mailbox_urn(self) -> str | None:
        return self._mailbox

    def _learn(self, mailbox: str | None) -> None:
        if self._mailbox is None and mailbox is not None:
            self._mailbox = mailbox

    # -- conversations -----------------------------------------------------

    def _category(self, unread: bool | None, options: Mapping[str, Any]) -> str:
        asked = options.get("category")
        if asked is None:
            return "UNREAD" if unread else "INBOX"
        category = CATEGORIES.get(asked.lower()) if isinstance(asked, str) else None
        if category is None:
            raise InvalidArgument(
                f"linkup category must be one of {', '.join(CATEGORIES)}, got {asked!r} (for UNREAD pass unread=True)"
            )
        if unread:
            raise InvalidArgument("linkup cannot combine unread=True with a category: UNREAD is a category of its own")
        return category

    def _inbox_request(
        self, limit: int, category: str, position: Position | None, spent: float | None = None
    ) -> Request:
        body: dict[str, Any] = {"total_results": limit, "category": category}
        if position is not None:
            if not isinstance(position, str) or not position:
                raise InvalidCursor("cursor does not hold a LinkupAPI inbox cursor")
            body["next_cursor"] = position
        return Request("POST", INBOX_PATH, json=body, spent=spent)

    def list_conversations(
        self,
        *,
        limit: int,
        unread: bool | None,
        keywords: str | None,
        position: Position | None,
        options: Mapping[str, Any],
    ) -> Operation[VendorPage[Conversation]]:
        category = self._category(unread, options)
        response = yield self._inbox_request(limit, category, position)
        page = read_inbox(response.data, category=None if category == "UNREAD" else category.lower())
        self._learn(page.mailbox_urn)
        credits = credits_for_results(len(page.conversations))
        return VendorPage(page.conversations, page.next_cursor, credits_used=credits)

    # -- history -------------------------------------------------------------

    def _history_target(self, target: ConversationTarget) -> tuple[dict[str, str], str | None]:
        """(request fields naming the conversation, the Conversation.id its messages carry)."""
        ref, conversation = target.ref, target.conversation
        if ref.thread_id.isascii() and ref.thread_id.isdigit():  # the early urn:li:conversation:<n> form
            legacy = f"urn:li:conversation:{ref.thread_id}"
            return {"conversation_id": legacy}, legacy
        if ref.urn is not None:
            return {"conversation_id": ref.urn}, ref.urn
        if conversation is not None and not is_group(conversation):
            others = [p for p in conversation.participants if p.is_self is not True and p.profile_url]
            if others:
                # All that is known is who the other person is: v1 finds the thread by profile.
                return {"linkedin_url": others[0].profile_url or ""}, conversation.id
        raise InvalidArgument(
            "linkup needs the full conversation id, 'urn:li:msg_conversation:(urn:li:fsd_profile:…,2-…)', "
            "as list_conversations returns it: a bare thread id does not say which mailbox it belongs to"
        )

    def list_messages(
        self, target: ConversationTarget, *, limit: int, position: Position | None
    ) -> Operation[VendorPage[Message]]:
        anchor, offset = _history_position(position)
        key, conversation_id = self._history_target(target)
        body: dict[str, Any] = {**key, "total_results": limit}
        if anchor is not None:
            body["cursor"] = str(anchor.request_cursor)
            # Boundary messages already returned come back (and are dropped). Asking for one
            # result more than them keeps paging moving however many share that millisecond;
            # asking for `limit` more would cost a credit more on every page.
            body["total_results"] = max(limit, len(anchor.seen) + 1)
        elif offset is not None:
            body["start_page"] = offset // _MESSAGES_PER_PAGE + 1
            body["end_page"] = (offset + limit - 1) // _MESSAGES_PER_PAGE + 1
        response = yield Request("POST", HISTORY_PATH, json=body)
        hints = SenderHints.of(target.conversation)
        history = read_history(response.data, conversation_id=conversation_id, hints=hints)
        self._learn(history.mailbox_urn)
        if history.pagination is not None and history.pagination.is_page_mode:
            return _page_mode(history, offset or 0, limit)
        return _cursor_mode(history, anchor)

    # -- send ------------------------------------------------------------------

    def send_message(self, request: SendRequest) -> Operation[SendResult]:
        if request.inmail or request.subject is not None:
            raise UnsupportedOperation(
                self.name, Capability.INMAIL.value, "LinkupAPI v1 sends plain messages without a subject"
            )
        lookup_credits = 0
        if request.to is not None:
            profile_url = request.to.url
        else:
            assert request.conversation is not None  # the client sends one of the two
            profile_url, lookup_credits = yield from self._reply_recipient(request.conversation)
        body: dict[str, Any] = {"linkedin_url": profile_url, "message_text": request.text}
        if request.media_url is not None:
            body["media_link"] = request.media_url
        response = yield Request("POST", SEND_PATH, json=body, is_send=True, spent=lookup_credits or None)
        result = read_send(response.data, with_media=request.media_url is not None)
        if lookup_credits:
            result = attrs.evolve(result, credits_used=(result.credits_used or 0) + lookup_credits)
        return result

    def _recipient(self, conversation: Conversation) -> str:
        if is_group(conversation):
            raise UnsupportedOperation(
                self.name,
                Capability.REPLY_IN_CONVERSATION.value,
                f"{conversation.id} is a group conversation; LinkupAPI v1 sends to one profile only "
                "(into their one-to-one thread), so it cannot reply in a group thread",
            )
        for person in conversation.participants:
            if person.is_self is not True and (person.profile_url or person.urn or person.public_id):
                return person.profile_url or ProfileRef(person.urn, None, person.public_id).url
        raise UnsupportedOperation(
            self.name,
            Capability.REPLY_IN_CONVERSATION.value,
            f"{conversation.id} names no other participant's profile to send to; pass to=<profile>",
        )

    def _reply_recipient(self, target: ConversationTarget) -> Operation[tuple[str, int]]:
        """The other participant's profile URL and the credits spent finding it."""
        if target.conversation is not None and target.conversation.participants:
            return self._recipient(target.conversation), 0
        spent = 0
        position: str | None = None
        for _ in range(REPLY_LOOKUP_PAGES):
            response = yield self._inbox_request(self.max_page_size, "INBOX", position, spent=spent or None)
            page = read_inbox(response.data, category="inbox")
            self._learn(page.mailbox_urn)
            spent += credits_for_results(len(page.conversations))
            for conversation in page.conversations:
                if conversation.thread_id == target.ref.thread_id:
                    try:
                        return self._recipient(conversation), spent
                    except LinkmsgError as exc:
                        spent_before(exc, spent)
                        raise
            position = page.next_cursor
            if position is None:
                break
        raise spent_before(
            NotFoundError(
                f"linkup: conversation {target.ref.urn or target.ref.thread_id} is not among the "
                f"{REPLY_LOOKUP_PAGES * self.max_page_size} most recent inbox conversations; pass the Conversation "
                "object from list_conversations, or send with to=<profile>",
                provider=self.name,
            ),
            spent,
        )


def _cursor_mode(history: HistoryPage, anchor: TimeAnchor | None) -> VendorPage[Message]:
    """Cursor paging: next page = messages older than the oldest one here.

    The anchor asks from one millisecond past the boundary and drops what was
    already returned, so messages sharing the boundary millisecond are neither
    lost nor repeated whether the vendor compares with < or <=.
    """
    messages, stamps = history.messages, history.stamps  # stamps[i] is messages[i]'s epoch ms
    fresh = anchor.filter_stamped(messages, stamps, _id_of) if anchor is not None else messages
    pagination = history.pagination
    more = False
    if pagination is not None:
        more = pagination.has_next_page if pagination.has_next_page is not None else pagination.next_cursor is not None
    next_position = None
    if more:
        following = TimeAnchor.after_stamped(messages, stamps, _id_of, previous=anchor)
        if following is None and pagination is not None:  # an empty page that says "more": follow the vendor
            vendor_ms = _vendor_ms(pagination.next_cursor)
            following = TimeAnchor(vendor_ms - 1) if vendor_ms else None
        next_position = following.to_position() if following is not None else None
    return VendorPage(fresh, next_position, credits_used=credits_for_results(len(messages)))


def _page_mode(history: HistoryPage, offset: int, limit: int) -> VendorPage[Message]:
    """Page-number paging (2025-04 to 2026-01): fixed pages of 10, 1 credit per page.

    The position is the offset of the next message, so any ``limit`` works.
    """
    pagination = history.pagination
    assert pagination is not None
    per_page = pagination.messages_per_page or _MESSAGES_PER_PAGE
    per_page = per_page if per_page > 0 else _MESSAGES_PER_PAGE
    start_page = max(pagination.start_page or 1, 1)
    end_page = max(pagination.end_page or start_page, start_page)
    first = (start_page - 1) * per_page
    skip = max(offset - first, 0)
    messages = history.messages
    window = messages[skip : skip + limit]
    ran_out = len(messages) < (end_page - start_page + 1) * per_page
    more = bool(window) and not (ran_out and skip + len(window) >= len(messages))
    credits = pagination.pages_fetched if pagination.pages_fetched is not None else -(-len(messages) // per_page)
    next_position = {"offset": first + skip + len(window)} if more else None
    return VendorPage(window, next_position, credits_used=credits)
