"""The ConnectSafely provider: settings, request building and the operations.

Endpoint choices (vendors.md §2; the reasons are in the README):

* conversations: ``GET /linkedin/messaging/recent-messages``. The vendor now
  answers it with a 307 to ``GET /linkedin/conversations``; httpx follows it,
  and both shapes are read.
* history: ``GET /linkedin/messaging/conversation-details``, paged backwards
  with the ``deliveredAt`` anchor and ``countBefore`` through
  :class:`linkmsg.paging.TimeAnchor`. If that path answers in the shape of
  ``GET /linkedin/conversations/{urn}/messages`` (a redirect like the one
  above), paging continues on that endpoint with its ``cursor``.
* sends: ``send-with-typing`` / ``send``; a reply into a named conversation
  goes through ``conversationUrn`` (``send-with-typing`` when the one other
  participant is known, else ``POST /linkedin/conversations/send``).
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlsplit

import attrs

from linkmsg.errors import InvalidArgument, InvalidCursor, PaginationError, ProviderError, ResponseShapeError
from linkmsg.identity import ConversationRef, ProfileRef, parse_conversation_id, parse_message_id, parse_profile
from linkmsg.model import Capability, Conversation, Message, Participant, SendResult
from linkmsg.paging import TimeAnchor
from linkmsg.payload import structure
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
)
from linkmsg_connectsafely import mapping
from linkmsg_connectsafely.payloads import (
    ConversationListPayload,
    ConversationPayload,
    MessagesHeadPayload,
    MessagesPayload,
)

__all__ = ["BASE_URL", "ConnectSafelyProvider", "ConnectSafelySettings"]

T = TypeVar("T")

BASE_URL = "https://api.connectsafely.ai"
RECENT_MESSAGES = "/linkedin/messaging/recent-messages"
CONVERSATIONS = "/linkedin/conversations"
CONVERSATION_DETAILS = "/linkedin/messaging/conversation-details"
SEND = "/linkedin/messaging/send"
SEND_WITH_TYPING = "/linkedin/messaging/send-with-typing"
SEND_WITH_ACK = "/linkedin/messaging/send-with-ack"
SEND_GROUP_WITH_TYPING = "/linkedin/messaging/send-group-with-typing"
SEND_GROUP_WITH_ACK = "/linkedin/messaging/send-group-with-ack"
REPLY = "/linkedin/conversations/send"
TYPING_INDICATOR = "/linkedin/messaging/typing-indicator"
MARK_SEEN = "/linkedin/messaging/mark-seen"
# A filtered page of the redirected list can come back empty; read on (bounded)
# so a rare keyword does not look like a stalled cursor.
_MAX_FILTERED_READS = 10


def _api_root(url: str) -> str:
    """The host root: newer doc pages print paths relative to ``…/linkedin``, which
    users copy as the base; every path here starts with ``/linkedin`` itself."""
    return url.rstrip("/").removesuffix("/linkedin")


@attrs.frozen(kw_only=True, slots=True)
class ConnectSafelySettings(HTTPSettings):
    """``api_key`` (required, secret); ``account_id`` picks one of the key's
    LinkedIn accounts (sent as ``accountId``; without it the vendor uses its
    default, most recently used, account)."""

    api_key: str = secret()
    account_id: str | None = None
    base_url: str = attrs.field(default=BASE_URL, converter=_api_root)

    def account_key(self) -> str:
        # The vendor counts limits per LinkedIn account; without an account id
        # the key's default account is meant. A digest, never the key itself.
        if self.account_id:
            return f"account:{self.account_id}"
        return "key-sha256:" + hashlib.sha256(self.api_key.encode()).hexdigest()[:16]


# Accessors of mapping.Keyed tuples (epoch ms, id, Message), in C.
_ms = operator.itemgetter(0)
_id = operator.itemgetter(1)
_ms_and_id = operator.itemgetter(0, 1)


def _path(response: Response) -> str:
    return urlsplit(response.url).path.rstrip("/") if response.url else ""


def _recipient(urn: str | None, profile_id: str | None) -> dict[str, str] | None:
    """``recipientProfileUrn`` when the URN is known (the pages prefer it), else ``recipientProfileId``."""
    if urn:
        return {"recipientProfileUrn": urn}
    if profile_id:
        return {"recipientProfileId": profile_id}
    return None


def _profile_arg(to: Participant | str) -> ProfileRef:
    if isinstance(to, Participant):
        key = to.urn or to.profile_url or to.public_id
        if not key:
            raise InvalidArgument("that Participant has no URN, profile URL or public id to send to")
        return parse_profile(key)
    if isinstance(to, str):
        return parse_profile(to)
    raise InvalidArgument(f"to must be a Participant or a profile id/URN/URL, got {type(to).__name__}")


def _text_arg(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{name} must be a non-empty string")
    return value


def _matches(conversation: Conversation, keywords: str) -> bool:
    needle = keywords.casefold()
    texts = [p.name or "" for p in conversation.participants]
    if conversation.latest_message is not None:
        texts.append(conversation.latest_message.text)
    return any(needle in text.casefold() for text in texts)


class ConnectSafelyProvider(Provider):
    """ConnectSafely REST (``Authorization: Bearer <key>``), ``/linkedin/messaging/*``."""

    name: ClassVar[str] = "connectsafely"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.LIST_CONVERSATIONS,
            Capability.FILTER_UNREAD,
            Capability.FILTER_KEYWORDS,
            Capability.READ_HISTORY,
            Capability.SEND_TO_PROFILE,
            Capability.REPLY_IN_CONVERSATION,
            Capability.TYPING,
            Capability.INMAIL,
            Capability.MARK_READ,
            Capability.GROUP_SEND,
            Capability.DELIVERY_ACK,
        }
    )
    settings_class: ClassVar[type[Settings]] = ConnectSafelySettings
    default_page_size: ClassVar[int] = 20
    max_page_size: ClassVar[int] = 100  # recent-messages: "default 20, max 100"

    def __init__(self, settings: Settings) -> None:
        if not isinstance(settings, ConnectSafelySettings):
            raise TypeError("ConnectSafelyProvider needs ConnectSafelySettings")
        super().__init__(settings)
        self._settings = settings
        self._mailbox: str | None = None

    # -- transport hooks -------------------------------------------------

    def auth_headers(self) -> Mapping[str, str]:
        return {"authorization": f"Bearer {self._settings.api_key}"}

    def error_for(self, response: Response) -> ProviderError | None:
        return mapping.error_for(response)

    # -- identity ----------------------------------------------------------

    @property
    def mailbox_urn(self) -> str | None:
        """The mailbox owner's ``urn:li:fsd_profile:…``, once a response has shown it."""
        return self._mailbox

    def _learn(self, *candidates: str | None) -> str | None:
        found = mapping.mailbox_of(*candidates)
        if found is not None:
            self._mailbox = found
        return found or self._mailbox

    def _learn_from_details(self, payload: MessagesPayload) -> str | None:
        first = payload.messages[0] if payload.messages else None
        return self._learn(
            payload.profile_urn,
            payload.conversation_urn,
            first.message_id if first else None,
            first.message_urn if first else None,
        )

    # -- request building ----------------------------------------------------

    def _params(self, **values: Any) -> dict[str, Any]:
        return {"accountId": self._settings.account_id, **values}

    def _body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in values.items() if v is not None}
        if self._settings.account_id:
            body["accountId"] = self._settings.account_id
        return body

    def _structure(self, response: Response, cls: type[T]) -> T:
        if not isinstance(response.data, dict):
            raise mapping.shape_error("$", f"expected a JSON object, got {type(response.data).__name__}")
        return structure(response.data, cls, provider=self.name)

    def _fast_history(
        self, response: Response, ref: ConversationRef
    ) -> tuple[MessagesHeadPayload, list[mapping.Keyed]] | None:
        """A history page with a top-level ``messages[]``, mapped in one pass
        (:func:`mapping.fast_messages`); None for any other page, or one the hot
        path does not take: the caller then reads it through MessagesPayload,
        which gives the same result or raises the same error."""
        data = response.data
        items = data.get("messages") if type(data) is dict else None
        if type(items) is not list:
            return None
        try:
            head = structure(data, MessagesHeadPayload, provider=self.name)
            first_id, first_urn = mapping.first_message_ids(items)
        except (ResponseShapeError, ValueError):
            return None
        found = mapping.mailbox_of(head.profile_urn, head.conversation_urn, first_id, first_urn)
        mailbox = ref.mailbox_urn or found or self._mailbox
        conversation_id = ref.urn or ConversationRef(ref.thread_id, mailbox).urn
        keyed = mapping.fast_messages(items, conversation_id, mailbox)
        if keyed is None:
            return None
        if found is not None:
            self._mailbox = found
        return head, keyed

    def _details(self, conversation: str, **params: Any) -> Request:
        return Request("GET", CONVERSATION_DETAILS, params=self._params(conversationUrn=conversation, **params))

    def _target(self, conversation: Conversation | str) -> ConversationTarget:
        if isinstance(conversation, Conversation):
            return ConversationTarget(parse_conversation_id(conversation.id, mailbox_urn=self._mailbox), conversation)
        if isinstance(conversation, str):
            return ConversationTarget(parse_conversation_id(conversation, mailbox_urn=self._mailbox))
        raise InvalidArgument(f"conversation must be a Conversation or an id string, got {type(conversation).__name__}")

    def _message_urns(self, items: Iterable[Message | str]) -> list[str]:
        urns = []
        for item in items:
            urn = item.id if isinstance(item, Message) else parse_message_id(item, mailbox_urn=self._mailbox).urn
            if not urn or not urn.startswith("urn:li:msg_message:"):
                raise InvalidArgument(f"message_urns needs urn:li:msg_message:(…) ids, got {item!r}")
            urns.append(urn)
        return urns

    # -- composite helpers -----------------------------------------------------

    def _discover_mailbox(self, first: ConversationPayload) -> Operation[str | None]:
        """Learn the mailbox from conversation-details, whose documented answer
        carries ``profileUrn`` (the account endpoints do not)."""
        ref = mapping.conversation_ref(first, None)
        if ref is None:
            return None
        response = yield self._details(ref.thread_id, countBefore=1)
        return self._learn_from_details(self._structure(response, MessagesPayload))

    def _resolve(
        self, target: ConversationTarget, *, participants: bool
    ) -> Operation[tuple[str, tuple[Participant, ...]]]:
        """The conversation's msg_conversation URN and, if asked, its participants.

        One conversation-details read gives both when the caller named the
        conversation by a bare id (mailbox unknown) or gave no Conversation.
        """
        ref = target.ref
        known = target.conversation.participants if target.conversation is not None else None
        if ref.urn is not None and (not participants or known is not None):
            return ref.urn, known or ()
        response = yield self._details(ref.urn or ref.thread_id, countBefore=1)
        payload = self._structure(response, MessagesPayload)
        learned = self._learn_from_details(payload)
        mailbox = ref.mailbox_urn or learned
        urn = ConversationRef(ref.thread_id, mailbox).urn
        if urn is None:
            raise ProviderError(
                f"{self.name} did not say whose mailbox conversation {ref.thread_id!r} belongs to; "
                "pass its urn:li:msg_conversation:(…) id instead of the bare thread id",
                provider=self.name,
            )
        people = (
            known if known is not None else tuple(mapping.participant(p, mailbox) for p in payload.participants or ())
        )
        return urn, people

    def _sent(self, conversation_urn: str | None, response: Response) -> SendResult:
        # No documented send response carries the new message's id or time.
        raw = response.data if isinstance(response.data, dict) else None
        return SendResult(conversation_id=conversation_urn, message_id=None, sent_at=None, delivered=None, raw=raw)

    # -- operations ------------------------------------------------------------------

    def list_conversations(
        self,
        *,
        limit: int,
        unread: bool | None,
        keywords: str | None,
        position: Position | None,
        options: Mapping[str, Any],
    ) -> Operation[VendorPage[Conversation]]:
        if position is not None and not isinstance(position, str):
            raise InvalidCursor("cursor does not hold a ConnectSafely nextCursor")
        cursor = position
        page: list[Conversation] = []
        total: int | None = None
        for _ in range(_MAX_FILTERED_READS):
            # `read=false` is the same on the wire for the boolean (legacy) and
            # string (Messaging page) forms; `unreadOnly` is what the 307
            # target, /linkedin/conversations, reads.
            response = yield Request(
                "GET",
                RECENT_MESSAGES,
                params=self._params(
                    count=limit,
                    nextCursor=cursor,
                    keywords=keywords,
                    read=False if unread else None,
                    unreadOnly=True if unread else None,
                ),
            )
            payload = self._structure(response, ConversationListPayload)
            items = payload.conversations or []
            mailbox = self._learn(payload.profile_urn, items[0].conversation_urn if items else None)
            if mailbox is None and items:
                mailbox = yield from self._discover_mailbox(items[0])
            page = mapping.conversations(payload, response.data, mailbox)
            total = payload.total
            cursor = payload.next_cursor if payload.has_more is not False and payload.next_cursor else None
            if _path(response).endswith(CONVERSATIONS):
                # /linkedin/conversations documents no keyword filter, and may not
                # see `read`: apply both to what it returned.
                if unread:
                    page = [c for c in page if c.unread_count != 0]
                if keywords:
                    page = [c for c in page if _matches(c, keywords)]
                if not page and cursor is not None:
                    continue
            break
        return VendorPage(page, cursor, total=total)

    def list_messages(
        self, target: ConversationTarget, *, limit: int, position: Position | None
    ) -> Operation[VendorPage[Message]]:
        anchor = None if position is None else TimeAnchor.from_position(position)
        on_conversations = isinstance(position, dict) and position.get("via") == "conversations"
        ref = target.ref
        conversation = ref.urn or ref.thread_id
        want = limit + (len(anchor.seen) if anchor is not None else 0)
        after = anchor.request_cursor if anchor is not None else None
        if on_conversations:
            path = f"{CONVERSATIONS}/{quote(conversation, safe='')}/messages"
            request = Request(
                "GET", path, params=self._params(count=want, cursor=None if after is None else str(after))
            )
        else:
            request = self._details(conversation, countBefore=want, deliveredAt=after)
        response = yield request
        fast = self._fast_history(response, ref)
        head: MessagesHeadPayload | MessagesPayload
        if fast is not None:
            head, items = fast
            top_level = True
        else:
            payload = self._structure(response, MessagesPayload)
            learned = self._learn_from_details(payload)
            mailbox = ref.mailbox_urn or learned
            conversation_id = ref.urn or ConversationRef(ref.thread_id, mailbox).urn
            items = mapping.messages(payload, response.data, conversation_id, mailbox)
            head, top_level = payload, payload.messages is not None
        fetched = len(items)
        items.sort(key=_ms_and_id, reverse=True)
        if anchor is not None:
            items = anchor.filter(items, _ms, _id)
        vendor_more = _vendor_has_more(head, top_level, fetched, want)
        if anchor is not None and not items and vendor_more:
            # Only messages already returned, yet "more before": the anchor is not
            # advancing. Ending here would silently drop the rest of the history.
            raise PaginationError(
                f"{self.name} answered the history page older than {anchor.ms} ms with nothing older, "
                "yet says more remain; its deliveredAt/cursor anchor does not advance",
                provider=self.name,
            )
        more = len(items) > limit or vendor_more
        items = items[:limit]
        next_position: dict[str, Any] | None = None
        if more:
            next_anchor = TimeAnchor.after(items, _ms, _id, previous=anchor)
            if next_anchor is not None:
                next_position = next_anchor.to_position()
                if _path(response).startswith(CONVERSATIONS + "/"):
                    next_position["via"] = "conversations"
        return VendorPage([item[2] for item in items], next_position, total=head.total)

    def send_message(self, request: SendRequest) -> Operation[SendResult]:
        body: dict[str, Any] = {"message": request.text, "subject": request.subject}
        if request.inmail:
            body["messageType"] = "inmail"
        to = request.to
        recipient = _recipient(to.urn, to.public_id or to.profile_id) if to is not None else None
        target = request.conversation
        if target is None:
            response = yield Request(
                "POST",
                SEND_WITH_TYPING if request.typing else SEND,
                json=self._body({**body, **(recipient or {})}),
                is_send=True,
            )
            return self._sent(None, response)
        urn, people = yield from self._resolve(target, participants=request.typing and recipient is None)
        if recipient is None and request.typing:
            others = [p for p in people if p.is_self is not True]
            if len(others) == 1:
                recipient = _recipient(others[0].urn, others[0].public_id or others[0].id)
        if request.typing and recipient is not None:
            response = yield Request(
                "POST", SEND_WITH_TYPING, json=self._body({**body, **recipient, "conversationUrn": urn}), is_send=True
            )
        else:
            # A group thread (or unknown recipient): typing-indicator, then the
            # conversationUrn reply, which needs no recipient.
            if request.typing:
                yield Request("POST", TYPING_INDICATOR, json=self._body({"conversationUrn": urn}))
            response = yield Request(
                "POST", REPLY, json=self._body({**body, **(recipient or {}), "conversationUrn": urn}), is_send=True
            )
        return self._sent(urn, response)

    def send_typing(self, target: ConversationTarget) -> Operation[None]:
        urn, _ = yield from self._resolve(target, participants=False)
        yield Request("POST", TYPING_INDICATOR, json=self._body({"conversationUrn": urn}))

    def mark_read(self, target: ConversationTarget) -> Operation[None]:
        urn, _ = yield from self._resolve(target, participants=False)
        yield Request("POST", MARK_SEEN, json=self._body({"conversationUrn": urn}))

    # -- vendor-only operations ----------------------------------------------------

    def _group_body(self, to: Participant | str, group_id: str, text: str) -> dict[str, Any]:
        urn = _profile_arg(to).urn
        if urn is None:
            raise InvalidArgument(
                "group sends need the member's profile URN (urn:li:fsd_profile:ACoAA… or ACoAA…); "
                "ConnectSafely's send-group endpoints accept no vanity slug"
            )
        return {
            "recipientProfileUrn": urn,
            "groupId": _text_arg(group_id, "group_id"),
            "message": _text_arg(text, "text"),
        }

    def ex_send_group(
        self, to: Participant | str, group_id: str, text: str, *, conversation: Conversation | str | None = None
    ) -> Operation[SendResult]:
        """Message a fellow group member (not a connection) with a typing indicator first
        (``POST /linkedin/messaging/send-group-with-typing``)."""
        body = self._group_body(to, group_id, text)
        urn = None
        if conversation is not None:
            urn, _ = yield from self._resolve(self._target(conversation), participants=False)
            body["conversationUrn"] = urn
        response = yield Request("POST", SEND_GROUP_WITH_TYPING, json=self._body(body), is_send=True)
        return self._sent(urn, response)

    def ex_send_group_with_ack(
        self, to: Participant | str, group_id: str, text: str, *, message_urns: Iterable[Message | str] = ()
    ) -> Operation[SendResult]:
        """Message a fellow group member and acknowledge ``message_urns`` as delivered
        (``POST /linkedin/messaging/send-group-with-ack``)."""
        body = self._group_body(to, group_id, text)
        body["messageUrns"] = self._message_urns(message_urns) or None
        response = yield Request("POST", SEND_GROUP_WITH_ACK, json=self._body(body), is_send=True)
        return self._sent(None, response)

    def ex_send_with_ack(
        self,
        text: str,
        to: Participant | str,
        *,
        message_urns: Iterable[Message | str] = (),
        subject: str | None = None,
        inmail: bool = False,
    ) -> Operation[SendResult]:
        """Send ``text`` and acknowledge ``message_urns`` (received messages) as delivered
        (``POST /linkedin/messaging/send-with-ack``)."""
        profile = _profile_arg(to)
        body: dict[str, Any] = {
            "message": _text_arg(text, "text"),
            "subject": subject,
            "messageType": "inmail" if inmail else None,
            "messageUrns": self._message_urns(message_urns) or None,
            **(_recipient(profile.urn, profile.public_id or profile.profile_id) or {}),
        }
        response = yield Request("POST", SEND_WITH_ACK, json=self._body(body), is_send=True)
        return self._sent(None, response)


def _vendor_has_more(
    payload: MessagesPayload | MessagesHeadPayload, top_level: bool, fetched: int, requested: int
) -> bool:
    """Whether older messages remain, by the flag the shape carries (``top_level``: the
    page has a top-level ``messages[]``)."""
    before = payload.pagination.has_more_before if payload.pagination is not None else None
    if type(before) is bool:
        return before
    if type(payload.has_more) is bool:
        return payload.has_more
    if not top_level:
        return False  # legacy crawl A: the whole history, no paging
    return fetched >= requested
