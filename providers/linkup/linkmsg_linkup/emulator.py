"""An in-process LinkupAPI v1 (vendors.md §3) serving a :class:`linkmsg.memory.Inbox`.

``LinkupEmulator(inbox)`` is an ``httpx`` handler: use it with
``httpx.MockTransport``, or behind any HTTP server. It renders the inbox in the
current documented shapes, honours the documented paging (inbox
``next_cursor``; history ``cursor`` = an epoch-ms string, answering messages
**strictly older** than it, the docs' "older than" wording; or, with
``history_paging="pages"``, the older ``start_page``/``end_page`` scheme),
appends sends to the inbox, and answers wrong credentials with the documented
error bodies.

Assumptions where the docs are silent: a group thread is rendered with its
first other member as ``participant`` and ``"type": "group"``; an InMail thread
with ``"type": "inmail"`` (v2's documented value); a message's kind as its
upper-cased ``message_type``; an unknown ``conversation_id`` gets the
documented "No conversation found" answer.

Rendering is cheap for large inboxes: each message's JSON object is built once
and pages are slices found by bisection.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, Literal

import attrs
import httpx

from linkmsg.errors import InvalidIdentifier
from linkmsg.identity import ProfileRef, conversation_urn, message_urn, parse_profile
from linkmsg.memory import Inbox, message_id_for, thread_id_for
from linkmsg.model import Attachment, Conversation, Message, Participant
from linkmsg.timestamps import from_epoch_ms, to_epoch_ms
from linkmsg_linkup.common import COUNTRIES

try:  # optional: faster JSON for benchmark-sized pages
    import orjson

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - depends on the environment

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


__all__ = ["LinkupEmulator"]

_PER_PAGE: Final = 10
_DEFAULT_RESULTS: Final = 10
_CATEGORY_FILTERS: Final[dict[str, Callable[[Conversation], bool]]] = {
    "INBOX": lambda c: True,
    "INMAIL": lambda c: c.category == "inmail",
    "JOB": lambda c: c.category == "job",
    "UNREAD": lambda c: bool(c.unread_count),
}
NO_CONVERSATION: Final = {"status": "success", "message": "No conversation found with this profile"}
MISSING_TARGET: Final = {
    "status": "error",
    "message": "Missing required parameter: either 'conversation_id' or 'linkedin_url' must be provided",
}


def _error(status: int, message: str) -> httpx.Response:
    return _json(status, {"status": "error", "message": message})


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, content=_dumps(body), headers={"content-type": "application/json"})


def _person(person: Participant) -> dict[str, Any]:
    rendered: dict[str, Any] = {"name": person.name, "headline": person.headline, "profile_url": person.profile_url}
    if person.picture_url is not None:
        rendered["profile_picture"] = person.picture_url
    return rendered


def _message(message: Message) -> dict[str, Any]:
    sender = message.sender
    return {
        "text": message.text,
        "timestamp": to_epoch_ms(message.sent_at),
        "sender": sender.name,
        "sender_info": {"first_name": sender.first_name, "last_name": sender.last_name},
        "message_type": message.kind.value.upper(),
        "entity_urn": message.id,
    }


def _others(conversation: Conversation) -> list[Participant]:
    return [p for p in conversation.participants if p.is_self is not True]


def _inbox_cursor(ms: int, thread_id: str) -> str:
    # The observed real format: base64("DESCENDING&<lastActivityAt ms>&<threadId>").
    return base64.b64encode(f"DESCENDING&{ms}&{thread_id}".encode()).decode()


def _read_inbox_cursor(cursor: str) -> tuple[int, str] | None:
    try:
        order, ms, thread = base64.b64decode(cursor, validate=True).decode().split("&", 2)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (int(ms), thread) if order == "DESCENDING" and ms.isdigit() else None


def _same_person(person: Participant, ref: ProfileRef) -> bool:
    if ref.urn is not None and person.urn == ref.urn:
        return True
    if ref.public_id is not None and person.public_id == ref.public_id:
        return True
    url = (person.profile_url or "").rstrip("/")
    return ref.profile_id is not None and url.endswith("/" + ref.profile_id)


def _thread_uuid(thread_id: str | None) -> str:
    try:
        return base64.b64decode((thread_id or "")[2:]).decode().rsplit("_", 1)[0]
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "00000000-0000-4000-8000-000000000000"


@attrs.define(slots=True)
class _History:
    """A conversation's messages rendered once: JSON objects newest first, and the
    negated ms of each (ascending, for bisection)."""

    rendered: list[dict[str, Any]]
    negated_ms: list[int]
    from_others: int


class LinkupEmulator:
    """LinkupAPI v1 over a canonical inbox; see the module docstring.

    ``login_token``: when set, bodies must carry it (else the documented 403
    "LinkedIn token expired"). ``history_paging``: ``"cursor"`` (current) or
    ``"pages"`` (2025-04 to 2026-01). ``send_answer``: ``"current"`` (with
    ``data{entityUrn, conversation_id, deliveredAt}``) or ``"legacy"`` (without).
    ``clock`` stamps sends (default: now, but never before the newest message).
    """

    def __init__(
        self,
        inbox: Inbox,
        *,
        api_key: str = "test-key",
        login_token: str | None = None,
        history_paging: Literal["cursor", "pages"] = "cursor",
        send_answer: Literal["current", "legacy"] = "current",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.inbox = inbox
        self.api_key = api_key
        self.login_token = login_token
        self.history_paging = history_paging
        self.send_answer = send_answer
        self.clock = clock or (lambda: datetime.now(UTC))
        self.requests: list[httpx.Request] = []
        self._lock = threading.RLock()
        self._listing: list[tuple[Conversation, dict[str, Any]]] | None = None
        self._by_id: dict[str, Conversation] = {}
        self._histories: dict[str, _History] = {}

    # -- rendering (cached) ----------------------------------------------------

    def _render_conversation(self, conversation: Conversation) -> dict[str, Any]:
        others = _others(conversation)
        latest = conversation.latest_message
        kind = "group" if len(others) > 1 else "inmail" if conversation.category == "inmail" else "normal"
        return {
            "conversation_id": conversation.id,
            "participant": _person(others[0]) if others else None,
            "last_message": (
                {"text": latest.text, "time": to_epoch_ms(latest.sent_at), "sender": _person(latest.sender)}
                if latest is not None
                else None
            ),
            "unread": conversation.unread_count or 0,
            "type": kind,
        }

    def _conversations(self) -> list[tuple[Conversation, dict[str, Any]]]:
        with self._lock:
            if self._listing is None:
                with self.inbox.lock:
                    ordered = self.inbox.sorted_conversations()
                self._listing = [(c, self._render_conversation(c)) for c in ordered]
                self._by_id = {c.id: c for c in ordered}
            return self._listing

    def _history(self, conversation: Conversation) -> _History:
        with self._lock:
            history = self._histories.get(conversation.id)
            if history is None:
                with self.inbox.lock:
                    messages = list(self.inbox.messages.get(conversation.id, ()))
                rendered = [_message(m) for m in messages]
                history = _History(
                    rendered,
                    [-item["timestamp"] for item in rendered],
                    sum(1 for m in messages if m.sender.is_self is not True),
                )
                self._histories[conversation.id] = history
            return history

    # -- HTTP ---------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method != "POST":
            return _json(405, {"detail": "Method Not Allowed"})
        if request.headers.get("x-api-key") != self.api_key:
            return _error(401, "Invalid API key or insufficient credits")
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _json(
                422, {"detail": [{"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"}]}
            )
        if not isinstance(body.get("login_token"), str):
            return _error(400, "Required fields are missing")
        if self.login_token is not None and body["login_token"] != self.login_token:
            return _error(403, "LinkedIn token expired")
        if body.get("country", "FR") not in COUNTRIES:
            return _error(400, "Bad parameter")
        path = request.url.path.rstrip("/")
        if path.endswith("/v1/messages/inbox"):
            return self._inbox(body)
        if path.endswith("/v1/messages/conversation"):
            return self._conversation(body)
        if path.endswith("/v1/messages/send-message"):
            return self._send(body)
        return _json(404, {"detail": "Not Found"})

    @staticmethod
    def _count(body: dict[str, Any]) -> int | None:
        count = body.get("total_results", _DEFAULT_RESULTS)
        return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None

    def _inbox(self, body: dict[str, Any]) -> httpx.Response:
        count = self._count(body)
        keep = _CATEGORY_FILTERS.get(body.get("category", "INBOX"))
        if count is None or keep is None:
            return _error(400, "total_results must be greater than 0" if count is None else "Bad parameter")
        listing = [item for item in self._conversations() if keep(item[0])]
        start = 0
        cursor = body.get("next_cursor")
        if cursor is not None:
            anchor = _read_inbox_cursor(cursor) if isinstance(cursor, str) else None
            if anchor is None:
                return _error(400, "Bad parameter")
            start = self._after(listing, *anchor)
        page = listing[start : start + count]
        more = start + count < len(listing)
        next_cursor = None
        if more and page:
            last, rendered = page[-1]
            next_cursor = _inbox_cursor((rendered["last_message"] or {}).get("time", 0), last.thread_id or "")
        data = {"conversations": [item for _, item in page], "total_results": len(page), "next_cursor": next_cursor}
        return _json(200, {"status": "success", "data": data})

    @staticmethod
    def _after(listing: list[tuple[Conversation, dict[str, Any]]], ms: int, thread_id: str) -> int:
        """Where the page after the anchor starts: after its thread, else at the first older one."""
        for index, (conversation, _) in enumerate(listing):
            if conversation.thread_id == thread_id:
                return index + 1
        for index, (_, rendered) in enumerate(listing):
            if (rendered["last_message"] or {}).get("time", 0) < ms:
                return index
        return len(listing)

    def _find(self, body: dict[str, Any]) -> tuple[Conversation | None, httpx.Response | None]:
        conversation_id, linkedin_url = body.get("conversation_id"), body.get("linkedin_url")
        self._conversations()
        if isinstance(conversation_id, str) and conversation_id:
            return self._by_id.get(conversation_id), None
        if isinstance(linkedin_url, str) and linkedin_url:
            try:
                ref = parse_profile(linkedin_url)
            except InvalidIdentifier:
                return None, _error(400, "Invalid LinkedIn URL format")
            return self._one_to_one(ref), None
        return None, _json(400, MISSING_TARGET)

    def _one_to_one(self, ref: ProfileRef) -> Conversation | None:
        for conversation, _ in self._conversations():
            others = _others(conversation)
            if len(others) == 1 and _same_person(others[0], ref):
                return conversation
        return None

    def _conversation(self, body: dict[str, Any]) -> httpx.Response:
        count = self._count(body)
        if count is None:
            return _error(400, "total_results must be greater than 0")
        conversation, failure = self._find(body)
        if failure is not None:
            return failure
        if conversation is None:
            return _json(200, NO_CONVERSATION)
        history = self._history(conversation)
        if self.history_paging == "pages":
            page, pagination = self._pages(history, body)
            if pagination is None:
                return _error(400, "Bad parameter")
        else:
            page, pagination = self._older_than(history, body.get("cursor"), count)
            if pagination is None:
                return _error(400, "Bad parameter")
        data: dict[str, Any] = {
            "conversation_id": conversation.id,
            "total_results": len(page),
            "total_other_member_message_count": history.from_others,
            "unread_count": conversation.unread_count or 0,
            "last_seen_message": False,
            "messages": page,
            "pagination": pagination,
        }
        if "linkedin_url" in body and "conversation_id" not in body:
            data["profile_url"] = body["linkedin_url"]  # "comes back only if it was sent"
        return _json(200, {"status": "success", "data": data})

    @staticmethod
    def _older_than(history: _History, cursor: Any, count: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        start = 0
        if cursor is not None:
            text = str(cursor)
            if not text.isascii() or not text.isdigit():
                return [], None
            # Strictly older than the cursor: the first index whose ms < cursor.
            start = bisect.bisect_right(history.negated_ms, -int(text))
        page = history.rendered[start : start + count]
        more = start + count < len(history.rendered)
        pagination: dict[str, Any] = {"count": len(page), "has_next_page": more}
        if more:
            pagination["next_cursor"] = str(page[-1]["timestamp"])
        return page, pagination

    @staticmethod
    def _pages(history: _History, body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        start = body.get("start_page", 1)
        end = body.get("end_page", start)
        valid = all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in (start, end))
        if not valid or end < start:
            return [], None
        page = history.rendered[(start - 1) * _PER_PAGE : end * _PER_PAGE]
        total_pages = -(-len(history.rendered) // _PER_PAGE)
        fetched = max(0, min(end, total_pages) - start + 1)
        pagination = {"start_page": start, "end_page": end, "messages_per_page": _PER_PAGE, "pages_fetched": fetched}
        return page, pagination

    # -- send -------------------------------------------------------------------------

    def _send(self, body: dict[str, Any]) -> httpx.Response:
        url, text, media = body.get("linkedin_url"), body.get("message_text"), body.get("media_link")
        if not isinstance(url, str) or not url or not isinstance(text, str) or not text:
            return _error(400, "Required fields are missing")
        try:
            ref = parse_profile(url)
        except InvalidIdentifier:
            return _error(400, "Invalid LinkedIn URL format")
        with self._lock:
            conversation = self._one_to_one(ref) or self._open(ref)
            message = self._append(conversation, text, media if isinstance(media, str) else None)
        answer: dict[str, Any] = {"status": "success", "message": "Message sent successfully"}
        if self.send_answer == "current":
            answer["data"] = {
                "entityUrn": message.id,
                "conversation_id": conversation.id,
                "deliveredAt": to_epoch_ms(message.sent_at),
            }
        return _json(200, answer)

    def _open(self, ref: ProfileRef) -> Conversation:
        inbox = self.inbox
        with inbox.lock:
            n = len(inbox.conversations)
            thread = thread_id_for(f"{n:08x}-0000-4000-8000-{n:012x}")
            other = Participant(id=ref.key, urn=ref.urn, public_id=ref.public_id, profile_url=ref.url, is_self=False)
            conversation = Conversation(
                id=conversation_urn(inbox.owner.urn or "", thread),
                thread_id=thread,
                participants=(other,),
                unread_count=0,
                category="inbox",
            )
            inbox.add(conversation, [])
        return conversation

    def _append(self, conversation: Conversation, text: str, media: str | None) -> Message:
        inbox = self.inbox
        with inbox.lock:
            history = inbox.messages[conversation.id]
            newest = max(
                (to_epoch_ms(c.last_activity_at) for c in inbox.conversations if c.last_activity_at), default=0
            )
            ms = max(to_epoch_ms(self.clock()), newest + 1)
            message = Message(
                id=message_urn(
                    inbox.owner.urn or "", message_id_for(ms, len(history), _thread_uuid(conversation.thread_id))
                ),
                conversation_id=conversation.id,
                text=text,
                sent_at=from_epoch_ms(ms),
                sender=inbox.owner,
                outgoing=True,
                attachments=(Attachment("media", media),) if media else (),
            )
            history.insert(0, message)
            current = next(c for c in inbox.conversations if c.id == conversation.id)
            updated = attrs.evolve(current, latest_message=message, last_activity_at=message.sent_at)
            inbox.conversations[inbox.conversations.index(current)] = updated
        # The rendered listing and this history are stale now.
        self._listing = None
        self._histories.pop(conversation.id, None)
        return message
