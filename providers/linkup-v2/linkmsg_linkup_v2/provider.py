"""The ``linkup-v2`` provider: LinkupAPI's action API, ``POST /v2/messages``.

Every call is the same request, ``{account_id, action, params}``:
``list_inbox`` lists conversations, ``get_conversation`` reads (and marks
read) a history, ``send`` sends. A classic reply has no thread parameter, so
replying means resolving the thread's other participant and sending to them.
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Generator, Mapping
from typing import Any, ClassVar, Final

import attrs

from linkmsg.errors import (
    AuthenticationError,
    InvalidArgument,
    InvalidCursor,
    InvalidIdentifier,
    LinkmsgError,
    NotFoundError,
    PaginationError,
    PaymentRequiredError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ResponseShapeError,
    ServerError,
    UnsupportedOperation,
)
from linkmsg.identity import parse_conversation_id, parse_profile
from linkmsg.model import Capability, Conversation, Message, Participant, SendResult
from linkmsg.paging import TimeAnchor
from linkmsg.payload import structure, structure_rows
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
    error_from_status,
    secret,
    spent_before,
)
from linkmsg_linkup_v2.mapping import (
    HISTORY_FIELDS,
    PROVIDER,
    SALES_NAV_THREAD,
    TimedMessage,
    conversation_from_inbox,
    messages_from_rows,
    participant_from_v2_person,
    send_result,
)
from linkmsg_linkup_v2.payloads import ErrorEnvelope, HistoryResponse, InboxResponse, Metadata, SendResponse

__all__ = ["CATEGORIES", "LinkupV2Provider", "LinkupV2Settings"]

PATH: Final = "/v2/messages"
CATEGORIES: Final = frozenset({"INBOX", "UNREAD", "MY_CONNECTIONS", "INMAIL", "STARRED"})
#: How many senders a reply's one history read sees: 10 messages cost the same 1 credit as 1.
_RESOLVE_COUNT: Final = 10
#: Re-asks when a whole page was already returned at the boundary millisecond.
_BOUNDARY_RETRIES: Final = 3


def _not_blank(_: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


@attrs.frozen(kw_only=True, slots=True)
class LinkupV2Settings(HTTPSettings):
    """``api_key`` goes in the ``x-api-key`` header; ``account_id`` (from ``POST /v2/login``) in every body."""

    api_key: str = secret(validator=_not_blank)
    account_id: str = attrs.field(validator=_not_blank)
    base_url: str = "https://api.linkupapi.com"

    def account_key(self) -> str:
        return self.account_id


def _credits(metadata: Metadata | None) -> float | None:
    # Only reported, never relied on: an odd value must not fail the call it describes.
    value = None if metadata is None else metadata.credits_consumed
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _add(total: float | None, more: float | None) -> float | None:
    return more if total is None else total + (more or 0)


_ms = operator.itemgetter(0)  # a TimedMessage's epoch ms (C-level: runs for every message of a page)


def _id(item: TimedMessage) -> str:
    return item[1].id or ""  # history messages always carry entity_urn


def _recipient_params(person: Participant) -> dict[str, str] | None:
    """The ``send`` params that address ``person``, or None when nothing does."""
    if person.id is not None and person.id.startswith("urn:li:fs_salesProfile:"):
        return {"recipient_urn": person.id}
    if person.profile_url:
        return {"profile_url": person.profile_url}
    if person.urn:
        return {"profile_url": parse_profile(person.urn).url}
    return None


class LinkupV2Provider(Provider):
    name: ClassVar[str] = PROVIDER
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.LIST_CONVERSATIONS,
            Capability.FILTER_UNREAD,
            Capability.READ_HISTORY,
            Capability.SEND_TO_PROFILE,
            Capability.REPLY_IN_CONVERSATION,
            Capability.INMAIL,
            Capability.MEDIA,
            Capability.MARK_READ,
            Capability.CREDITS,
        }
    )
    settings_class: ClassVar[type[Settings]] = LinkupV2Settings
    default_page_size: ClassVar[int] = 20
    max_page_size: ClassVar[int] = 100
    #: ``category``: one of CATEGORIES; ``sales_nav=True``: the Sales Navigator inbox.
    conversation_options: ClassVar[frozenset[str]] = frozenset({"category", "sales_nav"})

    settings: LinkupV2Settings

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # Facts about the one account this instance serves, learnt from answers:
        # the mailbox URN (inside every classic conversation id), the owner's own
        # profile URLs (senders flagged is_me) and which thread ids are Sales Navigator's.
        self._mailbox: str | None = None
        self._own_profiles: set[str] = set()
        self._sales_nav_threads: set[str] = set()

    @property
    def mailbox_urn(self) -> str | None:
        return self._mailbox

    # -- transport hooks ---------------------------------------------------

    def auth_headers(self) -> Mapping[str, str]:
        return {"x-api-key": self.settings.api_key}

    def error_for(self, response: Response) -> ProviderError | None:
        if not isinstance(response.data, Mapping):
            return super().error_for(response)
        try:
            envelope: ErrorEnvelope | None = structure(response.data, ErrorEnvelope, provider=self.name)
        except ResponseShapeError:
            envelope = None
        failed = response.status >= 400 or (envelope is not None and envelope.success is False)
        if not failed:
            return None
        status = response.status if response.status >= 400 else None
        if envelope is None or envelope.error is None or envelope.error.code is None:
            if status is not None:
                return super().error_for(response)
            return ProviderError(
                f"{self.name} reported a failure without an error code; the request was not carried out",
                provider=self.name,
            )
        return self._error_for_code(envelope.error.code, envelope.error.message, status)

    def _error_for_code(self, code: str, text: str | None, status: int | None) -> ProviderError:
        said = f"{code}: {text}" if text else code
        kwargs: dict[str, Any] = {"provider": self.name, "status": status, "code": code, "vendor_message": text}
        if code == "INVALID_API_KEY":
            return AuthenticationError(
                f"{self.name} rejected the API key ({said}); check the api_key setting (sent as x-api-key)", **kwargs
            )
        if code == "INVALID_ACCOUNT":
            return NotFoundError(
                f"{self.name} does not know account_id {self.settings.account_id!r} or it is not yours ({said}); "
                "check the account_id setting (GET /v2/accounts lists your accounts)",
                **kwargs,
            )
        if code == "ACCOUNT_INACTIVE":
            return PermissionDeniedError(
                f"the LinkedIn account behind account_id {self.settings.account_id!r} is disconnected or suspended "
                f"({said}); re-login to reconnect the LinkedIn account (POST /v2/login), then retry",
                **kwargs,
            )
        if code in ("INVALID_ACTION", "INVALID_PARAMS"):
            return ProviderError(
                f"{self.name} rejected the request ({said}); retrying it unchanged will fail again",
                retryable=False,
                **kwargs,
            )
        if code == "RATE_LIMITED":
            return RateLimitError(
                f"{self.name} is rate limiting this account ({said}); back off and retry later", **kwargs
            )
        if code == "INSUFFICIENT_CREDITS":
            return PaymentRequiredError(
                f"the LinkupAPI account has run out of credits ({said}); top up, then retry", **kwargs
            )
        if code == "CHANNEL_ERROR":
            return ProviderError(
                f"LinkedIn refused the request ({said}); do not retry blindly: check the recipient or thread "
                "(restricted profile, missing Sales Navigator seat) first",
                retryable=False,
                **kwargs,
            )
        if code == "INTERNAL_ERROR":
            return ServerError(f"{self.name} failed internally ({said}); retry after a few seconds", **kwargs)
        return error_from_status(
            status, f"{self.name} answered with error {said}", provider=self.name, code=code, vendor_message=text
        )

    # -- request building --------------------------------------------------

    def _call(
        self, action: str, params: dict[str, Any], *, is_send: bool = False, spent: float | None = None
    ) -> Request:
        body = {"account_id": self.settings.account_id, "action": action, "params": params}
        return Request("POST", PATH, json=body, is_send=is_send, spent=spent)

    def _is_sales_nav(self, target: ConversationTarget) -> bool:
        if target.ref.sales_nav:  # spelled urn:li:salesNav_thread:, e.g. an id stored by an earlier run
            return True
        if target.conversation is not None:
            return target.conversation.id.startswith(SALES_NAV_THREAD)
        return target.ref.thread_id in self._sales_nav_threads  # a bare thread id listed in this process

    def _conversation_param(self, target: ConversationTarget) -> str:
        """``conversation_id`` as list_inbox gave it: the msg_conversation URN (classic)."""
        if target.ref.urn is not None:
            return target.ref.urn
        raise InvalidArgument(
            f"{self.name} needs the full conversation id 'urn:li:msg_conversation:(…)', not the bare thread id "
            f"{target.ref.thread_id!r}: pass the Conversation or its id, or list conversations first so linkmsg "
            "learns this mailbox"
        )

    def _learn_mailbox(self, conversation_id: str | None) -> None:
        if self._mailbox is None and conversation_id is not None:
            with contextlib.suppress(InvalidIdentifier):
                self._mailbox = parse_conversation_id(conversation_id).mailbox_urn

    # -- operations ----------------------------------------------------------

    def list_conversations(
        self,
        *,
        limit: int,
        unread: bool | None,
        keywords: str | None,
        position: Position | None,
        options: Mapping[str, Any],
    ) -> Operation[VendorPage[Conversation]]:
        sales_nav = options.get("sales_nav", False)
        if not isinstance(sales_nav, bool):
            raise InvalidArgument(f"sales_nav must be True or False, got {sales_nav!r}")
        params: dict[str, Any] = {"count": limit}
        category = self._category(options.get("category"), unread)
        if category is not None:
            params["category"] = category
        if position is not None:
            if not isinstance(position, str):
                raise InvalidCursor("cursor does not hold a LinkupAPI inbox cursor")
            params["cursor"] = position
        if sales_nav:
            params["sales_nav"] = True
        response = yield self._call("list_inbox", params)
        parsed = structure(response.data, InboxResponse, provider=self.name)
        raws = response.data["data"]["conversations"]  # validated by structure() above
        mailbox = self._mailbox
        items = [
            conversation_from_inbox(item, raw, sales_nav=sales_nav, mailbox_urn=mailbox, index=index)
            for index, (item, raw) in enumerate(zip(parsed.data.conversations, raws, strict=True))
        ]
        if sales_nav:
            self._sales_nav_threads.update(item.conversation_id for item in parsed.data.conversations)
        for conversation in items:
            if not sales_nav:
                self._learn_mailbox(conversation.id)
            latest = conversation.latest_message
            if latest is not None and latest.outgoing and latest.sender.profile_url:
                self._own_profiles.add(latest.sender.profile_url.rstrip("/"))
        cursor = parsed.data.next_cursor
        next_position = str(cursor) if cursor not in (None, "") else None
        return VendorPage(items, next_position, credits_used=_credits(parsed.metadata))

    def _category(self, value: Any, unread: bool | None) -> str | None:
        if value is None:
            return "UNREAD" if unread else None
        category = value.upper() if isinstance(value, str) else value
        if category not in CATEGORIES:
            raise InvalidArgument(f"category must be one of {', '.join(sorted(CATEGORIES))}, got {value!r}")
        if unread and category != "UNREAD":
            raise InvalidArgument(
                f"unread=True is LinkupAPI's UNREAD category; it cannot be combined with category={value!r}"
            )
        return str(category)

    def _history(
        self, params: dict[str, Any], conversation_id: str, mailbox: str | None, spent: float | None = None
    ) -> Generator[Request, Response, tuple[HistoryResponse, list[TimedMessage]]]:
        response = yield self._call("get_conversation", params, spent=spent)
        # Messages as rows, mapped in one pass; parsed.data.messages is left empty.
        at = ("data", "messages")
        parsed, rows = structure_rows(response.data, HistoryResponse, at, HISTORY_FIELDS, provider=self.name)
        raws = response.data["data"]["messages"]  # validated by structure_rows() above
        timed = messages_from_rows(rows, raws, conversation_id=conversation_id, mailbox_urn=mailbox)
        return parsed, timed

    def list_messages(
        self, target: ConversationTarget, *, limit: int, position: Position | None
    ) -> Operation[VendorPage[Message]]:
        if self._is_sales_nav(target):
            # Sales Navigator threads have no cursor: the newest `count` messages, nothing older.
            thread = target.ref.thread_id
            request = {"conversation_id": thread, "count": limit, "sales_nav": True}
            parsed, timed = yield from self._history(request, SALES_NAV_THREAD + thread, None)
            return VendorPage([m for _, m in timed], None, parsed.data.total_message_count, _credits(parsed.metadata))
        conversation_id = self._conversation_param(target)
        self._learn_mailbox(conversation_id)
        anchor = None if position is None else TimeAnchor.from_position(position)
        # The vendor's next_cursor is only read as "older messages exist": its
        # documented example points older than the oldest message it returned,
        # so following it could skip messages. The anchor comes from the
        # messages themselves, one millisecond past the oldest, and drops what
        # was already returned at that millisecond.
        count, credits = limit, None
        for _ in range(_BOUNDARY_RETRIES):
            params: dict[str, Any] = {"conversation_id": conversation_id, "count": count}
            if anchor is not None:
                params["cursor"] = str(anchor.request_cursor)
            parsed, timed = yield from self._history(params, conversation_id, target.ref.mailbox_urn, credits)
            credits = _add(credits, _credits(parsed.metadata))
            fresh = timed if anchor is None else anchor.filter(timed, _ms, _id)
            more = parsed.data.next_cursor is not None
            if fresh or not more or len(timed) < count:
                break
            count = len(timed) + limit  # the whole page was already returned at the boundary: ask for more
        if more and not fresh:
            raise spent_before(
                PaginationError(
                    f"{self.name} keeps returning messages it already returned for this conversation; "
                    "its timestamp cursor does not advance",
                    provider=self.name,
                ),
                credits,
            )
        more = more or len(fresh) > limit
        fresh = fresh[:limit]
        next_anchor = TimeAnchor.after(fresh, _ms, _id, anchor) if more else None
        return VendorPage(
            [m for _, m in fresh],
            None if next_anchor is None else next_anchor.to_position(),
            parsed.data.total_message_count,
            credits,
        )

    def mark_read(self, target: ConversationTarget) -> Operation[None]:
        if self._is_sales_nav(target):
            raise UnsupportedOperation(
                self.name, Capability.MARK_READ.value, "LinkupAPI cannot mark Sales Navigator threads read"
            )
        # LinkedIn read state is only get_conversation's mark_as_read: read one message.
        conversation_id = self._conversation_param(target)
        params = {"conversation_id": conversation_id, "count": 1, "mark_as_read": True}
        parsed, _ = yield from self._history(params, conversation_id, target.ref.mailbox_urn)
        data = parsed.data
        if data.mark_as_read_error or data.marked_as_read is False:
            detail = data.mark_as_read_error if isinstance(data.mark_as_read_error, str) else None
            raise ProviderError(
                f"{self.name} read the conversation but could not mark it read"
                + (f" ({detail})" if detail else "")
                + "; try again later",
                provider=self.name,
                vendor_message=detail,
                retryable=False,
            )

    def send_message(self, request: SendRequest) -> Operation[SendResult]:
        credits: float | None = None
        mailbox = self._mailbox
        if request.to is not None:
            params: dict[str, Any] = {"profile_url": request.to.url}
        else:
            assert request.conversation is not None  # the client guarantees one of the two
            target = request.conversation
            mailbox = target.ref.mailbox_urn or mailbox
            recipient, credits = yield from self._reply_recipient(target)
            params = dict(recipient)
        params["message_text"] = request.text
        if request.inmail:
            params["inmail"] = True
        if request.subject is not None:
            params["subject"] = request.subject
        if request.media_url is not None:
            params["media_link"] = request.media_url
        response = yield self._call("send", params, is_send=True, spent=credits)
        parsed = structure(response.data, SendResponse, provider=self.name)
        credits = _add(credits, _credits(parsed.metadata))
        result = send_result(parsed.data, response.data, mailbox_urn=mailbox, credits_used=credits)
        if result.conversation_id is not None and not result.conversation_id.startswith(SALES_NAV_THREAD):
            self._learn_mailbox(result.conversation_id)
        return result

    def _reply_recipient(
        self, target: ConversationTarget
    ) -> Generator[Request, Response, tuple[Mapping[str, str], float | None]]:
        """The ``send`` params addressing the thread's other participant, and the credits spent finding them."""
        credits = None
        if target.conversation is not None:
            people = [p for p in target.conversation.participants if p.is_self is not True]
        else:
            sales_nav = self._is_sales_nav(target)
            params: dict[str, Any] = {"count": _RESOLVE_COUNT}
            if sales_nav:
                params.update(conversation_id=target.ref.thread_id, sales_nav=True)
            else:
                params["conversation_id"] = self._conversation_param(target)
            parsed, timed = yield from self._history(params, "", target.ref.mailbox_urn)
            credits = _credits(parsed.metadata)
            try:
                people = self._other_people(parsed, [m for _, m in timed])
            except LinkmsgError as exc:
                spent_before(exc, credits)
                raise
        if len(people) > 1:
            raise spent_before(
                UnsupportedOperation(
                    self.name,
                    Capability.REPLY_IN_CONVERSATION.value,
                    f"this is a group conversation ({len(people)} other participants) and LinkupAPI v2 can only "
                    "send to one profile, which would go to a one-to-one thread instead",
                ),
                credits,
            )
        recipient = _recipient_params(people[0]) if people else None
        if recipient is None:
            raise spent_before(
                InvalidArgument(
                    f"{self.name} could not tell who to reply to in this conversation: it sends to a profile, "
                    "not into a thread; pass the Conversation from list_conversations, or send with to=<profile>"
                ),
                credits,
            )
        return recipient, credits

    def _other_people(self, parsed: HistoryResponse, messages: list[Message]) -> list[Participant]:
        """The thread's other participants, from a history read; raises when that cannot be told safely."""
        if parsed.data.participants is not None:  # Sales Navigator lists them, with is_me
            return [p for p in map(participant_from_v2_person, parsed.data.participants) if p.is_self is not True]
        others: dict[str, Participant] = {}
        owner_seen = unsure = False
        for message in messages:
            sender = message.sender
            url = (sender.profile_url or "").rstrip("/")
            if sender.is_self or url in self._own_profiles:
                owner_seen = True
            else:
                unsure = unsure or sender.is_self is None
                others.setdefault(url or sender.name or "", sender)
        if unsure and not owner_seen:
            # A vanity URL without is_me may be the owner's own: guessing could message the wrong person.
            raise InvalidArgument(
                f"{self.name} cannot tell the mailbox owner from the other participants of this conversation "
                "(its messages carry no is_me); pass the Conversation from list_conversations, "
                "or send with to=<profile>"
            )
        return list(others.values())
