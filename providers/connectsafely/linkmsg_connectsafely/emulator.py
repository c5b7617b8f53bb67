"""A ConnectSafely server in a box: renders a :class:`linkmsg.memory.Inbox` as
the vendor's JSON (vendors.md §2) and answers ``httpx.Request`` objects.

Use it with ``httpx.MockTransport(emulator)``, behind a real HTTP server, or in
benchmarks (each message's JSON is rendered once, then sliced per request).

Shapes, one option each:

* ``list_shape``: ``"messaging"`` (§2.3.2, default), ``"legacy"`` (§2.3.1), or
  ``"redirect"``: recent-messages answers 307 to ``/linkedin/conversations``
  (its query kept) in the §2.3.3 shape, as the vendor now does.
* ``history_shape``: ``"messaging"`` (§2.4.2 with the seed page's sender,
  attachments, reactions and pagination; default), ``"legacy"`` (§2.4.1 crawl
  A: the whole history under ``conversationDetails``), or ``"redirect"``:
  conversation-details answers 307 to ``/linkedin/conversations/{urn}/messages``
  (§2.4.3).

Undocumented semantics, chosen here: ``countBefore`` returns messages strictly
older than ``deliveredAt``, ``countAfter`` strictly newer; ``cursor`` of
``/conversations/{urn}/messages`` is "strictly older than" that epoch-ms value
and ``since`` "strictly newer"; page sizes default to 20.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, urlencode

import httpx

from linkmsg.errors import InvalidIdentifier, LinkmsgError
from linkmsg.identity import ProfileRef, parse_conversation_id, parse_message_id, parse_profile
from linkmsg.memory import Inbox, MemoryProvider, MemorySettings
from linkmsg.model import Conversation, Message, Participant
from linkmsg.provider import ConversationTarget, SendRequest
from linkmsg.timestamps import to_epoch_ms

__all__ = ["DEFAULT_ACCOUNT_ID", "ConnectSafelyEmulator"]

DEFAULT_ACCOUNT_ID = "696ce9e780e0483585e4e553"
_PARTICIPANT = "urn:li:msg_messagingParticipant:"
_MESSAGES_PREFIX = "/linkedin/conversations/"


def _respond(status: int, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json=data)


def _bad_request(message: str) -> httpx.Response:
    return _respond(400, {"success": False, "error": message})


def _zod_required(field: str) -> httpx.Response:
    issue = {
        "code": "invalid_type",
        "expected": "string",
        "received": "undefined",
        "path": [field],
        "message": "Required",
    }
    return _respond(400, {"success": False, "error": {"name": "ZodError", "issues": [issue]}})


def _member_id(person: Participant) -> str | None:
    if person.urn:
        return person.urn.rpartition(":")[2]
    return person.public_id


def _participant_json(person: Participant) -> dict[str, Any]:
    return {
        "profileId": _member_id(person),
        "name": person.name,
        "headline": person.headline,
        "profilePicture": person.picture_url,
    }


def _sender_json(person: Participant) -> dict[str, Any]:
    return {
        "profileId": _member_id(person),
        "name": person.name,
        "profileUrl": person.profile_url,
        "profilePicture": person.picture_url,
        "participantUrn": _PARTICIPANT + person.urn if person.urn else None,
    }


def _iso_ms(message: Message) -> str:
    return message.sent_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _message_json(message: Message) -> dict[str, Any]:
    """A message as the Messaging / seed conversation-details page shows it."""
    key = parse_message_id(_canonical_id(message)).message_id
    return {
        "messageId": message.id,
        "backendMessageUrn": "urn:li:messagingMessage:" + key,
        "text": message.text,
        "subject": message.subject,
        "sentAt": to_epoch_ms(message.sent_at),
        "sender": _sender_json(message.sender),
        "attachments": [{"type": a.kind, "url": a.url} for a in message.attachments] or None,
        "reactions": [
            {"emoji": r.emoji, "count": r.count, "viewerReacted": r.viewer_reacted} for r in message.reactions
        ]
        or None,
        "hasAttachment": bool(message.attachments),
    }


def _flat_message_json(message: Message) -> dict[str, Any]:
    """A message as ``/conversations/{urn}/messages`` shows it (flat sender)."""
    return {
        "messageUrn": message.id,
        "text": message.text,
        "sentAt": to_epoch_ms(message.sent_at),
        "senderProfileId": _member_id(message.sender),
        "senderName": message.sender.name,
        "senderPhoto": message.sender.picture_url,
        "isSentByOwner": message.outgoing,
        "hasAttachment": bool(message.attachments),
        "attachments": [{"type": a.kind, "url": a.url} for a in message.attachments],
    }


def _legacy_message_json(message: Message) -> dict[str, Any]:
    """A message as legacy crawl A shows it: URN-string sender, ISO time, ``body``."""
    return {
        "messageUrn": "urn:li:message:" + parse_message_id(_canonical_id(message)).message_id,
        "body": message.text,
        "sender": message.sender.urn,
        "createdAt": _iso_ms(message),
    }


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"cs1:{offset}".encode()).decode()


def _decode_cursor(token: str) -> int | None:
    try:
        text = base64.b64decode(token.removeprefix("linkedin:"), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    head, _, offset = text.partition(":")
    return int(offset) if head == "cs1" and offset.isdigit() else None


def _int(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None


class ConnectSafelyEmulator:
    """Answers ConnectSafely requests from ``inbox``; sends append to it.

    ``requests`` keeps every request received, in order.
    """

    def __init__(
        self,
        inbox: Inbox,
        *,
        api_key: str = "test-key",
        account_id: str = DEFAULT_ACCOUNT_ID,
        list_shape: str = "messaging",
        history_shape: str = "messaging",
    ) -> None:
        if list_shape not in ("messaging", "legacy", "redirect"):
            raise ValueError(f"unknown list_shape {list_shape!r}")
        if history_shape not in ("messaging", "legacy", "redirect"):
            raise ValueError(f"unknown history_shape {history_shape!r}")
        self.inbox = inbox
        self.api_key = api_key
        self.account_id = account_id
        self.list_shape = list_shape
        self.history_shape = history_shape
        self.requests: list[httpx.Request] = []
        self._memory = MemoryProvider(MemorySettings(inbox=inbox))
        self._lock = threading.RLock()
        self._threads: dict[str, Conversation] = {}
        # conversation id -> (rendered messages oldest first, their ms ascending), per renderer
        self._rendered: dict[tuple[str, str], tuple[list[dict[str, Any]], list[int]]] = {}
        self._routes: dict[tuple[str, str], Callable[[httpx.Request, dict[str, Any]], httpx.Response]] = {
            ("GET", "/linkedin/messaging/recent-messages"): self._recent_messages,
            ("GET", "/linkedin/conversations"): self._conversations,
            ("GET", "/linkedin/messaging/conversation-details"): self._conversation_details,
            ("GET", "/linkedin/account/status"): self._account_status,
            ("POST", "/linkedin/messaging/send"): self._send,
            ("POST", "/linkedin/messaging/send-with-typing"): self._send,
            ("POST", "/linkedin/messaging/send-with-ack"): self._send,
            ("POST", "/linkedin/conversations/send"): self._send,
            ("POST", "/linkedin/messaging/send-group-with-typing"): self._send,
            ("POST", "/linkedin/messaging/send-group-with-ack"): self._send,
            ("POST", "/linkedin/messaging/typing-indicator"): self._typing,
            ("POST", "/linkedin/messaging/mark-seen"): self._mark_seen,
        }
        self._reindex()

    # -- plumbing ------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _respond(401, {"error": "Unauthorized - Invalid credentials"})
        body: dict[str, Any] = {}
        if request.method == "POST":
            try:
                parsed = json.loads(request.content or b"{}")
            except ValueError:
                return _bad_request("Request body must be JSON")
            if not isinstance(parsed, dict):
                return _bad_request("Request body must be a JSON object")
            body = parsed
        account = body.get("accountId") if request.method == "POST" else request.url.params.get("accountId")
        if account is not None and account != self.account_id:
            return _respond(404, {"error": "LinkedIn account not found or not accessible"})
        raw_path = request.url.raw_path.decode("ascii").partition("?")[0]
        route = self._routes.get((request.method, raw_path))
        if (
            route is None
            and request.method == "GET"
            and raw_path.startswith(_MESSAGES_PREFIX)
            and raw_path.endswith("/messages")
        ):
            return self._conversation_messages(request, unquote(raw_path[len(_MESSAGES_PREFIX) : -9]))
        if route is None:
            return _respond(404, {"error": f"Cannot {request.method} {raw_path}"})
        with self._lock:
            return route(request, body)

    def _reindex(self) -> None:
        self._threads = {c.thread_id: c for c in self.inbox.conversations if c.thread_id}

    def _find(self, value: object) -> Conversation | None:
        if not isinstance(value, str) or not value:
            return None
        try:
            thread = parse_conversation_id(value).thread_id
        except InvalidIdentifier:
            return None
        return self._threads.get(thread)

    def _history(
        self, conversation: Conversation, render: Callable[[Message], dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[int]]:
        key = (conversation.id, render.__name__)
        cached = self._rendered.get(key)
        if cached is None:
            oldest_first = list(reversed(self.inbox.messages.get(conversation.id, [])))
            cached = ([render(m) for m in oldest_first], [to_epoch_ms(m.sent_at) for m in oldest_first])
            self._rendered[key] = cached
        return cached

    @property
    def _owner_urn(self) -> str | None:
        return self.inbox.owner.urn

    # -- conversations -------------------------------------------------------------

    def _conversation_json(self, conversation: Conversation, shape: str) -> dict[str, Any]:
        thread = conversation.thread_id or ""
        latest = conversation.latest_message
        data: dict[str, Any] = {
            "participants": [_participant_json(p) for p in conversation.participants],
            "unreadCount": conversation.unread_count or 0,
            "lastActivityAt": to_epoch_ms(conversation.last_activity_at) if conversation.last_activity_at else None,
            "latestMessage": {
                "text": latest.text,
                "sentAt": to_epoch_ms(latest.sent_at),
                "senderName": latest.sender.name,
                "hasAttachment": bool(latest.attachments),
            }
            if latest is not None
            else {},
        }
        if shape == "messaging":
            return {
                "conversationId": thread,
                "conversationUrn": conversation.id,
                "backendConversationUrn": "urn:li:messagingThread:" + thread,
                "conversationUrl": f"https://www.linkedin.com/messaging/thread/{thread}/",
                **data,
            }
        if shape == "legacy":
            return {"conversationId": "urn:li:messagingThread:" + thread, "conversationUrn": conversation.id, **data}
        return {
            "conversationUrn": conversation.id,
            "conversationId": "conv_" + hashlib.sha1(thread.encode()).hexdigest()[:12],  # noqa: S324 - an id, not security
            **data,
            "source": "linkedin",
            "salesNavThreadId": None,
        }

    def _select(self, params: httpx.QueryParams, unread_only: bool) -> list[Conversation] | httpx.Response:
        items = self.inbox.sorted_conversations()
        read = params.get("read")
        if read not in (None, "true", "false"):
            return _bad_request("read must be true or false")
        if unread_only or read == "false":
            items = [c for c in items if c.unread_count]
        elif read == "true":
            items = [c for c in items if not c.unread_count]
        keywords = params.get("keywords")
        if keywords and not unread_only:
            needle = keywords.casefold()
            items = [c for c in items if self._mentions(c, needle)]
        return items

    def _mentions(self, conversation: Conversation, needle: str) -> bool:
        """The documented semantics: participants, messages and subject lines."""
        if any(needle in (p.name or "").casefold() for p in conversation.participants):
            return True
        return any(
            needle in m.text.casefold() or needle in (m.subject or "").casefold()
            for m in self.inbox.messages.get(conversation.id, ())
        )

    def _window(
        self, params: httpx.QueryParams, items: list[Conversation]
    ) -> tuple[list[Conversation], int | None] | httpx.Response:
        count = _int(params.get("count"), 20)
        if count is None or count < 1:
            return _bad_request("count must be a positive number")
        count = min(count, 100)
        token = params.get("nextCursor")
        start = 0 if not token else _decode_cursor(token)
        if start is None:
            return _bad_request("Invalid nextCursor")
        end = start + count
        return items[start:end], (end if end < len(items) else None)

    def _recent_messages(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        if self.list_shape == "redirect":
            query = request.url.query.decode("ascii")
            return _respond(307, None, {"location": "/linkedin/conversations" + (f"?{query}" if query else "")})
        items = self._select(request.url.params, unread_only=False)
        if isinstance(items, httpx.Response):
            return items
        window = self._window(request.url.params, items)
        if isinstance(window, httpx.Response):
            return window
        page, end = window
        return _respond(
            200,
            {
                "success": True,
                "accountId": self.account_id,
                "profileUrn": self._owner_urn,
                "total": len(items),
                "nextCursor": None if end is None else _encode_cursor(end),
                "conversations": [self._conversation_json(c, self.list_shape) for c in page],
            },
        )

    def _conversations(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        params = request.url.params
        items = self._select(params, unread_only=params.get("unreadOnly") == "true")
        if isinstance(items, httpx.Response):
            return items
        window = self._window(params, items)
        if isinstance(window, httpx.Response):
            return window
        page, end = window
        return _respond(
            200,
            {
                "success": True,
                "conversations": [self._conversation_json(c, "conversations") for c in page],
                "nextCursor": None if end is None else "linkedin:" + _encode_cursor(end),
                "hasMore": end is not None,
                "fromCache": True,
            },
        )

    # -- history -------------------------------------------------------------------

    def _conversation_details(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        params = request.url.params
        if not params.get("conversationUrn"):
            return _bad_request("conversationUrn is required")
        conversation = self._find(params.get("conversationUrn"))
        if conversation is None:
            return _respond(500, {"success": False, "error": "Failed to get conversation details"})
        before, after = _int(params.get("countBefore"), 20), _int(params.get("countAfter"), 0)
        anchor = _int(params.get("deliveredAt"), 0)
        if before is None or after is None or anchor is None:
            return _bad_request("deliveredAt, countBefore and countAfter must be numbers")
        if self.history_shape == "redirect":
            query = {"count": before, "cursor": params.get("deliveredAt"), "accountId": params.get("accountId")}
            location = f"{_MESSAGES_PREFIX}{quote(conversation.id, safe='')}/messages"
            clean = {k: v for k, v in query.items() if v is not None}
            return _respond(307, None, {"location": location + (f"?{urlencode(clean)}" if clean else "")})
        if self.history_shape == "legacy":
            rendered, _ = self._history(conversation, _legacy_message_json)
            return _respond(
                200,
                {
                    "success": True,
                    "accountId": self.account_id,
                    "profileId": params.get("profileId"),
                    "conversationUrn": conversation.id,
                    "conversationDetails": {"messages": list(reversed(rendered))},
                },
            )
        rendered, times = self._history(conversation, _message_json)
        if anchor:
            end = bisect.bisect_left(times, anchor)
            start = max(0, end - before)
            newer = bisect.bisect_right(times, anchor)
            window = rendered[start:end] + rendered[newer : newer + after]
            last = newer + after if after else end
        else:
            end = len(rendered)
            start = max(0, end - before)
            window, last = rendered[start:end], end
        return _respond(
            200,
            {
                "success": True,
                "accountId": self.account_id,
                "profileUrn": self._owner_urn,
                "conversationUrn": conversation.id,
                "total": len(rendered),
                "messages": window,
                "participants": [
                    {**_participant_json(p), "profileUrl": p.profile_url} for p in conversation.participants
                ],
                "pagination": {
                    "firstMessageAt": times[0] if times else None,
                    "lastMessageAt": times[-1] if times else None,
                    "hasMoreBefore": start > 0,
                    "hasMoreAfter": last < len(rendered),
                },
            },
        )

    def _conversation_messages(self, request: httpx.Request, urn: str) -> httpx.Response:
        params = request.url.params
        with self._lock:
            conversation = self._find(urn)
            if conversation is None:
                return _respond(404, {"error": "Conversation not found"})
            rendered, times = self._history(conversation, _flat_message_json)
        count, cursor, since = (
            _int(params.get("count"), 20),
            _int(params.get("cursor"), 0),
            _int(params.get("since"), 0),
        )
        if count is None or cursor is None or since is None:
            return _bad_request("count, cursor and since must be numbers")
        if since:
            start = bisect.bisect_right(times, since)
            window, more = rendered[start : start + count], start + count < len(rendered)
            next_cursor = None
        else:
            end = bisect.bisect_left(times, cursor) if cursor else len(rendered)
            start = max(0, end - count)
            window, more = rendered[start:end], start > 0
            next_cursor = str(times[start]) if more else None
        return _respond(
            200,
            {
                "success": True,
                "messages": list(reversed(window)),
                "participants": [_participant_json(p) for p in conversation.participants],
                "hasMore": more,
                "cursor": next_cursor,
            },
        )

    # -- writes ------------------------------------------------------------------------

    def _send(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        path = request.url.path
        text = body.get("message")
        if not isinstance(text, str) or not text:
            return _zod_required("message")
        urn, slug = body.get("recipientProfileUrn"), body.get("recipientProfileId")
        group = "/send-group" in path
        if group and (not urn or not body.get("groupId")):
            return _zod_required("recipientProfileUrn" if not urn else "groupId")
        if body.get("messageType") == "inmail" and not body.get("subject"):
            return _bad_request("subject is required for InMail")
        conversation = self._find(body.get("conversationUrn"))
        if body.get("conversationUrn") and conversation is None:
            return _respond(404, {"error": "Conversation not found"})
        to: ProfileRef | None = None
        try:
            if isinstance(urn, str) and urn:
                to = parse_profile(urn)
            elif isinstance(slug, str) and slug:
                to = parse_profile(slug)
        except InvalidIdentifier:
            return _bad_request("Invalid recipient profile")
        if to is None and conversation is None:
            return _respond(
                400,
                {
                    "success": False,
                    "code": "validation_error",
                    "message": "recipientProfileId or recipientProfileUrn is required",
                },
            )
        target = (
            None if conversation is None else ConversationTarget(parse_conversation_id(conversation.id), conversation)
        )
        send = SendRequest(
            text=text,
            to=to,
            conversation=target,
            subject=body.get("subject") if isinstance(body.get("subject"), str) else None,
            inmail=body.get("messageType") == "inmail",
        )
        try:
            result = self._drive(self._memory.send_message(send))
        except LinkmsgError as exc:
            return _respond(404, {"error": str(exc)})
        self._rendered = {k: v for k, v in self._rendered.items() if k[0] != result.conversation_id}
        self._reindex()
        answer: dict[str, Any] = {"success": True, "message": "Message sent successfully"}
        if path.endswith("/conversations/send"):
            answer = {"success": True, "message": text, "sentMessage": {}}
        answer["recipientProfileUrn"] = to.urn if to is not None else None
        if path.endswith("-with-typing"):
            answer["typingIndicatorSent"] = True
        if path.endswith("-with-ack"):
            answer["acknowledgmentSent"] = True
        if group:
            answer["groupId"] = body["groupId"]
        return _respond(200, answer)

    @staticmethod
    def _drive(operation: Any) -> Any:
        try:
            next(operation)
        except StopIteration as stop:
            return stop.value
        raise RuntimeError("the memory provider made a request")  # pragma: no cover

    def _conversation_arg(self, body: dict[str, Any]) -> Conversation | httpx.Response:
        if not body.get("conversationUrn"):
            return _bad_request("conversationUrn is required")
        conversation = self._find(body.get("conversationUrn"))
        if conversation is None:
            return _respond(404, {"error": "Conversation not found"})
        return conversation

    def _typing(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        conversation = self._conversation_arg(body)
        if isinstance(conversation, httpx.Response):
            return conversation
        return _respond(
            200,
            {
                "success": True,
                "accountId": self.account_id,
                "conversationUrn": conversation.id,
                "message": "Typing indicator sent successfully",
            },
        )

    def _mark_seen(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        conversation = self._conversation_arg(body)
        if isinstance(conversation, httpx.Response):
            return conversation
        self._drive(self._memory.mark_read(ConversationTarget(parse_conversation_id(conversation.id), conversation)))
        self._reindex()
        return _respond(
            200,
            {
                "success": True,
                "accountId": self.account_id,
                "conversationUrn": conversation.id,
                "message": "Conversation marked as seen successfully",
            },
        )

    def _account_status(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        owner = self.inbox.owner
        return _respond(
            200,
            {
                "id": self.account_id,
                "firstName": owner.first_name,
                "lastName": owner.last_name,
                "publicId": owner.public_id,
                "platform": "ConnectSafely",
                "status": "AVAILABLE",
                "enabled": True,
                "hasTokens": True,
            },
        )


def _canonical_id(message: Message) -> str:
    assert message.id is not None, "a canonical inbox message always has an id"
    return message.id
