"""A tiny vendor of our own: the reference row of the fault matrix.

It exercises everything the transport must handle without depending on any
first-party provider: a bearer key in a header, a session token merged into
every JSON body, opaque string cursors, a send endpoint, error envelopes in
2xx bodies, and a ``holdUntil`` in rate-limit bodies.

API (base URL + path):
  GET  /conversations?limit=&cursor=                 -> {"data": {"conversations": [...], "next_cursor": str|null}}
  GET  /conversations/{thread}/messages?limit=&cursor= -> {"data": {"messages": [...], "next_cursor": str|null}}
  POST /messages {"text", "to"|"conversation", "login_token"} -> {"data": {"message_id", "conversation_id", "sent_at"}}
  errors: {"success": false, "error": {"message": str}} (any status; 200 means "request failed")
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import unquote

import attrs
import httpx

from linkmsg.errors import ProviderError, ResponseShapeError
from linkmsg.identity import message_urn
from linkmsg.memory import Inbox, message_id_for
from linkmsg.model import Capability, Conversation, Message, Participant, SendResult
from linkmsg.payload import field, structure
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
)
from linkmsg.timestamps import from_epoch_ms, to_epoch_ms

NAME = "tiny"


@attrs.frozen(kw_only=True, slots=True)
class TinySettings(HTTPSettings):
    base_url: str = "https://tiny.invalid"
    api_key: str = secret()
    login_token: str = secret()

    def account_key(self) -> str:
        return f"{self.base_url}|{self.api_key}"


@attrs.frozen
class _Person:
    urn: str | None = None
    name: str | None = None
    public_id: str | None = field("publicId", default=None)
    url: str | None = None


@attrs.frozen
class _Message:
    urn: str
    text: str
    sender: _Person
    sent_at: int = field("sentAt")
    conversation_urn: str | None = field("conversationUrn", default=None)
    outgoing: bool | None = None


@attrs.frozen
class _Conversation:
    urn: str
    thread: str
    participants: list[_Person] = attrs.field(factory=list)
    unread: int | None = None
    last_activity: int | None = field("lastActivity", default=None)


@attrs.frozen
class _ConversationPage:
    conversations: list[_Conversation]
    next_cursor: str | None = field("nextCursor", default=None)


@attrs.frozen
class _MessagePage:
    messages: list[_Message]
    next_cursor: str | None = field("nextCursor", default=None)


@attrs.frozen
class _Sent:
    message_id: str = field("messageId")
    conversation_id: str = field("conversationId")
    sent_at: int = field("sentAt")


def _person(p: _Person, owner: str | None) -> Participant:
    return Participant(
        id=p.urn or p.public_id,
        urn=p.urn,
        public_id=p.public_id,
        name=p.name,
        profile_url=p.url,
        is_self=p.urn == owner if owner else None,
    )


def _data(response: Response, provider: str) -> Any:
    if not isinstance(response.data, Mapping) or "data" not in response.data:
        raise ResponseShapeError(f"{provider} answered without a 'data' object", path="data", provider=provider)
    return response.data["data"]


class TinyProvider(Provider):
    name: ClassVar[str] = NAME
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.LIST_CONVERSATIONS,
            Capability.READ_HISTORY,
            Capability.SEND_TO_PROFILE,
            Capability.REPLY_IN_CONVERSATION,
        }
    )
    settings_class: ClassVar[type[Settings]] = TinySettings
    max_page_size: ClassVar[int] = 50

    @property
    def _s(self) -> TinySettings:
        assert isinstance(self.settings, TinySettings)
        return self.settings

    def auth_headers(self) -> Mapping[str, str]:
        return {"authorization": f"Bearer {self._s.api_key}"}

    def auth_body(self) -> Mapping[str, Any]:
        return {"login_token": self._s.login_token}

    def error_for(self, response: Response) -> ProviderError | None:
        data = response.data
        failed = isinstance(data, Mapping) and data.get("success") is False
        if response.status < 400 and not failed:
            return None
        text = None
        if isinstance(data, Mapping):
            error = data.get("error")
            if isinstance(error, Mapping) and isinstance(error.get("message"), str):
                text = error["message"]
            elif isinstance(error, str):
                text = error
        status = response.status if response.status >= 400 else None
        message = f"{self.name} answered HTTP {response.status}" + (f": {text}" if text else "")
        if status is None:
            return ProviderError(message, provider=self.name, vendor_message=text)
        return error_from_status(status, message, provider=self.name, vendor_message=text)

    def list_conversations(
        self,
        *,
        limit: int,
        unread: bool | None,
        keywords: str | None,
        position: Position | None,
        options: Mapping[str, Any],
    ) -> Operation[VendorPage[Conversation]]:
        params = {"limit": limit, "cursor": position}
        response = yield Request("GET", "/conversations", params=params)
        page = structure(_data(response, self.name), _ConversationPage, provider=self.name, path="data")
        items = [
            Conversation(
                id=c.urn,
                thread_id=c.thread,
                participants=tuple(_person(p, None) for p in c.participants),
                unread_count=c.unread,
                last_activity_at=from_epoch_ms(c.last_activity) if c.last_activity is not None else None,
            )
            for c in page.conversations
        ]
        return VendorPage(items, page.next_cursor)

    def list_messages(
        self, target: ConversationTarget, *, limit: int, position: Position | None
    ) -> Operation[VendorPage[Message]]:
        path = f"/conversations/{target.ref.thread_id}/messages"
        response = yield Request("GET", path, params={"limit": limit, "cursor": position})
        page = structure(_data(response, self.name), _MessagePage, provider=self.name, path="data")
        items = [
            Message(
                id=m.urn,
                conversation_id=m.conversation_urn,
                text=m.text,
                sent_at=from_epoch_ms(m.sent_at),
                sender=_person(m.sender, None),
                outgoing=m.outgoing,
            )
            for m in page.messages
        ]
        return VendorPage(items, page.next_cursor)

    def send_message(self, request: SendRequest) -> Operation[SendResult]:
        body: dict[str, Any] = {"text": request.text}
        if request.conversation is not None:
            body["conversation"] = request.conversation.ref.thread_id
        elif request.to is not None:
            body["to"] = request.to.key
        response = yield Request("POST", "/messages", json=body, is_send=True)
        sent = structure(_data(response, self.name), _Sent, provider=self.name, path="data")
        return SendResult(sent.conversation_id, sent.message_id, from_epoch_ms(sent.sent_at), raw=response.data)


# ---------------------------------------------------------------- emulator


def _render_person(p: Participant) -> dict[str, Any]:
    return {"urn": p.urn, "name": p.name, "publicId": p.public_id, "url": p.profile_url}


def _render_message(m: Message) -> dict[str, Any]:
    return {
        "urn": m.id,
        "conversationUrn": m.conversation_id,
        "text": m.text,
        "sentAt": to_epoch_ms(m.sent_at),
        "sender": _render_person(m.sender),
        "outgoing": m.outgoing,
    }


class TinyEmulator:
    """Renders an :class:`Inbox` as the tiny vendor's JSON; offset cursors ``"o<N>"``."""

    def __init__(self, inbox: Inbox, *, api_key: str = "test-key", login_token: str | None = None) -> None:
        self.inbox = inbox
        self.api_key = api_key
        self.login_token = login_token
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def _error(self, status: int, message: str) -> httpx.Response:
        return httpx.Response(status, json={"success": False, "error": {"message": message}})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._error(401, "invalid api key")
        path = request.url.path
        limit = int(request.url.params.get("limit", "20"))
        cursor = request.url.params.get("cursor")
        start = int(cursor[1:]) if cursor else 0
        if request.method == "GET" and path == "/conversations":
            with self.inbox.lock:
                items = self.inbox.sorted_conversations()
            return self._page("conversations", [self._render_conversation(c) for c in items], start, limit)
        if request.method == "GET" and path.startswith("/conversations/") and path.endswith("/messages"):
            thread = unquote(path.split("/")[2])
            with self.inbox.lock:
                conv = next((c for c in self.inbox.conversations if c.thread_id == thread), None)
                if conv is None:
                    return self._error(404, "conversation not found")
                messages = list(self.inbox.messages[conv.id])
            return self._page("messages", [_render_message(m) for m in messages], start, limit)
        if request.method == "POST" and path == "/messages":
            return self._send(json.loads(request.content))
        return self._error(404, f"no route {request.method} {path}")

    def _render_conversation(self, c: Conversation) -> dict[str, Any]:
        return {
            "urn": c.id,
            "thread": c.thread_id,
            "participants": [_render_person(p) for p in c.participants],
            "unread": c.unread_count,
            "lastActivity": to_epoch_ms(c.last_activity_at) if c.last_activity_at else None,
        }

    @staticmethod
    def _page(key: str, items: list[dict[str, Any]], start: int, limit: int) -> httpx.Response:
        end = start + limit
        nxt = f"o{end}" if end < len(items) else None
        return httpx.Response(200, json={"success": True, "data": {key: items[start:end], "nextCursor": nxt}})

    def _send(self, body: dict[str, Any]) -> httpx.Response:
        if self.login_token is not None and body.get("login_token") != self.login_token:
            return self._error(401, "session expired")
        inbox = self.inbox
        now = datetime.now(UTC).replace(microsecond=datetime.now(UTC).microsecond // 1000 * 1000)
        with inbox.lock:
            if "conversation" in body:
                conv = next((c for c in inbox.conversations if c.thread_id == body["conversation"]), None)
            else:
                conv = next(
                    (
                        c
                        for c in inbox.conversations
                        if len(c.participants) == 1 and c.participants[0].urn == body["to"]
                    ),
                    None,
                )
            if conv is None:
                return self._error(404, "recipient not found")
            history = inbox.messages[conv.id]
            ms = to_epoch_ms(now)
            msg = Message(
                id=message_urn(inbox.owner.urn or "", message_id_for(ms, len(history), conv.thread_id or "x")),
                conversation_id=conv.id,
                text=body["text"],
                sent_at=now,
                sender=inbox.owner,
                outgoing=True,
            )
            history.insert(0, msg)
            index = inbox.conversations.index(conv)
            inbox.conversations[index] = attrs.evolve(conv, latest_message=msg, last_activity_at=now)
        return httpx.Response(
            200, json={"success": True, "data": {"messageId": msg.id, "conversationId": conv.id, "sentAt": ms}}
        )
