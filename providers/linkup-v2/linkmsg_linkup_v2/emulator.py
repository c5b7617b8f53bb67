"""A LinkupAPI v2 emulator: serves a canonical :class:`~linkmsg.memory.Inbox` as ``POST /v2/messages``.

It answers ``httpx.Request`` objects (use it as ``httpx.MockTransport(emulator)``)
in the current documented shapes of vendors.md §4: ``list_inbox`` (classic,
or the Sales Navigator inbox with ``sales_nav``), ``get_conversation`` (classic
with the ms cursor and ``mark_as_read``, or Sales Navigator without paging),
``send`` (the nested answer by default; ``send_shape="flat"`` gives the first
v2 docs' flat answer), the ``{success: false, error}`` envelope with the
documented HTTP statuses, and ``metadata.credits_consumed``.

Undocumented choices: a message ``cursor`` returns messages **strictly older**
than it; ``next_cursor`` is the oldest returned message's ms (as documented),
so two messages sharing that millisecond are the client's problem, as with the
real API. The Sales Navigator inbox cursor is the ms time of the last returned
conversation, and the next page is strictly older.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import mimetypes
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs
import httpx

from linkmsg.errors import InvalidIdentifier
from linkmsg.identity import ProfileRef, conversation_urn, message_urn, parse_message_id, parse_profile
from linkmsg.memory import Inbox, message_id_for, thread_id_for
from linkmsg.model import Attachment, Conversation, Message, MessageKind, Participant
from linkmsg.timestamps import to_epoch_ms

try:
    import orjson

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - depends on the environment

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode()


__all__ = ["LinkupV2Emulator"]

PATH: Final = "/v2/messages"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CATEGORIES: Final = frozenset({"INBOX", "UNREAD", "MY_CONNECTIONS", "INMAIL", "STARRED"})
_MESSAGE_TYPES: Final = {
    MessageKind.TEXT: "TEXT",
    MessageKind.INVITATION: "INVITATION",
    MessageKind.SHARED_POST: "SHARED_POST",
    MessageKind.MEDIA: "MEDIA",
    MessageKind.INMAIL: "INMAIL",
}


class _Failure(Exception):
    """An error answer: HTTP status, documented code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _ms(value: datetime | None) -> int:
    return to_epoch_ms(value or _EPOCH)


def _sales_id(participant: Participant) -> str:
    """The Sales Navigator (ACwAA…) id the emulator gives a member (ACoAA…)."""
    member = (participant.urn or "").rpartition(":")[2] or "ACoAAUnknown"
    return "ACwAA" + member[5:]


def _sales_urn(participant: Participant) -> str:
    ident = _sales_id(participant)
    return f"urn:li:fs_salesProfile:({ident},NAME_SEARCH,{ident[-4:]})"


def _thread_uuid(thread_id: str) -> str:
    try:
        return base64.b64decode(thread_id[2:]).decode("ascii").rpartition("_")[0] or "0"
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "0"


@attrs.define
class _History:
    """A conversation's classic message dicts, newest first, and their negated ms for bisect."""

    source: list[Message]
    rendered: list[dict[str, Any]]
    neg_ms: list[int]


class LinkupV2Emulator:
    """Answers ``POST /v2/messages`` from ``inbox``; see the module docstring.

    ``send_shape``: ``"nested"`` (current docs) or ``"flat"`` (first v2 docs,
    ISO ``deliveredAt`` and backend URNs). InMail sends always get the InMail shape.
    """

    def __init__(
        self,
        inbox: Inbox,
        *,
        api_key: str = "test-key",
        account_id: str = "acc_test",
        send_shape: str = "nested",
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if send_shape not in ("nested", "flat"):
            raise ValueError("send_shape must be 'nested' or 'flat'")
        self.inbox = inbox
        self.api_key = api_key
        self.account_id = account_id
        self.send_shape = send_shape
        self.now = now or (lambda: datetime.now(UTC))
        self.requests: list[httpx.Request] = []
        self.credits_consumed = 0.0
        self._histories: dict[str, _History] = {}

    # -- HTTP ------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        action: Any = None
        try:
            if request.method != "POST" or request.url.path.rstrip("/") != PATH:
                raise _Failure(404, "INVALID_ACTION", f"No route {request.method} {request.url.path}")
            if request.headers.get("x-api-key") != self.api_key:
                raise _Failure(403, "INVALID_API_KEY", "Invalid or missing API key.")
            try:
                body = json.loads(request.content or b"null")
            except ValueError:
                raise _Failure(400, "INVALID_PARAMS", "The request body is not valid JSON.") from None
            if not isinstance(body, dict):
                raise _Failure(400, "INVALID_PARAMS", "The request body must be a JSON object.")
            action = body.get("action")
            if not body.get("account_id"):
                raise _Failure(400, "INVALID_PARAMS", "account_id is required.")
            if body["account_id"] != self.account_id:
                raise _Failure(404, "INVALID_ACCOUNT", "Account not found or not owned by this API key.")
            params = body.get("params") or {}
            if not isinstance(params, dict):
                raise _Failure(400, "INVALID_PARAMS", "params must be an object.")
            handler = self._actions().get(action) if isinstance(action, str) else None
            if handler is None:
                raise _Failure(400, "INVALID_ACTION", f"Unknown action '{action}' for category 'messages'")
            with self.inbox.lock:
                data, credits = handler(params)
        except _Failure as failure:
            return self._answer(
                failure.status,
                {"success": False, "error": {"code": failure.code, "message": failure.message}},
                action,
                0,
            )
        self.credits_consumed += credits
        return self._answer(200, {"success": True, "data": data}, action, credits)

    def _actions(self) -> dict[str, Callable[[dict[str, Any]], tuple[dict[str, Any], float]]]:
        return {"list_inbox": self._list_inbox, "get_conversation": self._get_conversation, "send": self._send}

    def _answer(self, status: int, payload: dict[str, Any], action: Any, credits: float) -> httpx.Response:
        payload["metadata"] = {
            "action": action if isinstance(action, str) else None,
            "account_id": self.account_id,
            "credits_consumed": credits,
            "timestamp": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return httpx.Response(status, content=_dumps(payload), headers={"content-type": "application/json"})

    # -- params ------------------------------------------------------------------

    @staticmethod
    def _count(params: dict[str, Any]) -> int:
        count = params.get("count", 10)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise _Failure(400, "INVALID_PARAMS", "count must be a positive integer.")
        return count

    @staticmethod
    def _list_credits(results: int) -> float:
        return float(math.ceil(results / 10))

    # -- list_inbox ----------------------------------------------------------

    def _list_inbox(self, params: dict[str, Any]) -> tuple[dict[str, Any], float]:
        count = self._count(params)
        category = params.get("category", "INBOX")
        if category not in _CATEGORIES:
            raise _Failure(400, "INVALID_PARAMS", f"category must be one of {', '.join(sorted(_CATEGORIES))}.")
        sales_nav = params.get("sales_nav") is True
        conversations = [c for c in self.inbox.sorted_conversations() if self._in_category(c, category)]
        cursor = params.get("cursor")
        if cursor is not None:
            conversations = self._after_inbox_cursor(conversations, cursor, sales_nav)
        page = conversations[:count]
        next_cursor = None
        if len(conversations) > count:
            last = page[-1]
            if sales_nav:
                next_cursor = str(_ms(last.last_activity_at))
            else:
                raw = f"DESCENDING&{_ms(last.last_activity_at)}&{last.thread_id}"
                next_cursor = base64.b64encode(raw.encode()).decode()
        render = self._sales_nav_conversation if sales_nav else self._conversation
        data = {
            "conversations": [render(c) for c in page],
            "total_results": len(page),
            "next_cursor": next_cursor,
        }
        return data, self._list_credits(len(page))

    @staticmethod
    def _in_category(conversation: Conversation, category: str) -> bool:
        if category == "UNREAD":
            return bool(conversation.unread_count)
        if category == "INMAIL":
            return conversation.category == "inmail"
        if category == "MY_CONNECTIONS":
            return conversation.category != "inmail"
        return category != "STARRED"  # nothing in a canonical inbox is starred

    @staticmethod
    def _after_inbox_cursor(conversations: list[Conversation], cursor: Any, sales_nav: bool) -> list[Conversation]:
        bad = _Failure(400, "INVALID_PARAMS", "Invalid cursor.")
        if not isinstance(cursor, str):
            raise bad
        if sales_nav:
            if not cursor.isdigit():
                raise bad
            return [c for c in conversations if _ms(c.last_activity_at) < int(cursor)]
        try:
            order, ms, thread = base64.b64decode(cursor, validate=True).decode().split("&", 2)
            key = (int(ms), thread)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise bad from None
        if order != "DESCENDING":
            raise bad
        return [c for c in conversations if (_ms(c.last_activity_at), c.thread_id or "") < key]

    @staticmethod
    def _person(participant: Participant, is_me: bool | None = None) -> dict[str, Any]:
        person: dict[str, Any] = {
            "name": participant.name,
            "headline": participant.headline,
            "profile_url": participant.profile_url,
            "profile_picture": participant.picture_url,
        }
        if is_me is not None:
            person["is_me"] = is_me
        return person

    def _conversation(self, conversation: Conversation) -> dict[str, Any]:
        latest = conversation.latest_message
        other = conversation.participants[0] if conversation.participants else self.inbox.owner
        item: dict[str, Any] = {
            "conversation_id": conversation.id,
            "participant": self._person(other),
            "last_message": None,
            "unread": conversation.unread_count or 0,
            "type": "inmail" if conversation.category == "inmail" else "normal",
        }
        if latest is not None:
            item["last_message"] = {
                "text": latest.text,
                "time": _ms(latest.sent_at),
                "sender": self._person(latest.sender, is_me=bool(latest.outgoing)),
            }
        return item

    def _sales_person(self, participant: Participant, is_me: bool) -> dict[str, Any]:
        ident = _sales_id(participant)
        return {
            "name": participant.name,
            "first_name": participant.first_name,
            "last_name": participant.last_name,
            "profile_url": f"https://www.linkedin.com/in/{ident}",
            "sales_nav_url": f"https://www.linkedin.com/sales/lead/{ident}",
            "recipient_urn": _sales_urn(participant),
            "profile_picture": participant.picture_url,
            "connection_level": "2",
            "is_me": is_me,
        }

    def _sales_nav_conversation(self, conversation: Conversation) -> dict[str, Any]:
        latest = conversation.latest_message
        other = conversation.participants[0] if conversation.participants else self.inbox.owner
        item: dict[str, Any] = {
            "conversation_id": conversation.thread_id,
            "participant": self._sales_person(other, False),
            "last_message": None,
            "unread": conversation.unread_count or 0,
            "type": "inmail" if conversation.category == "inmail" else "normal",
            "total_message_count": len(self.inbox.messages.get(conversation.id, ())),
            "archived": False,
        }
        if latest is not None:
            item["last_message"] = {
                "text": latest.text,
                "time": _ms(latest.sent_at),
                "subject": latest.subject,
                "sender": {
                    "name": latest.sender.name,
                    "recipient_urn": _sales_urn(latest.sender),
                    "is_me": bool(latest.outgoing),
                },
            }
        return item

    # -- get_conversation -------------------------------------------------------

    def _find_conversation(self, params: dict[str, Any], sales_nav: bool) -> Conversation:
        conversation_id = params.get("conversation_id")
        profile_url = params.get("profile_url", params.get("linkedin_url"))
        if conversation_id is None and profile_url is None:
            raise _Failure(400, "INVALID_PARAMS", "Either conversation_id or profile_url is required.")
        if sales_nav and conversation_id is None:
            raise _Failure(400, "INVALID_PARAMS", "conversation_id is required with sales_nav.")
        for conversation in self.inbox.conversations:
            if conversation_id is not None:
                own = conversation.thread_id if sales_nav else conversation.id
                if own == conversation_id:
                    return conversation
            elif len(conversation.participants) == 1 and _same_person(conversation.participants[0], profile_url):
                return conversation
        raise _Failure(400, "INVALID_PARAMS", "Conversation not found.")

    def _get_conversation(self, params: dict[str, Any]) -> tuple[dict[str, Any], float]:
        count = self._count(params)
        sales_nav = params.get("sales_nav") is True
        conversation = self._find_conversation(params, sales_nav)
        if sales_nav:
            return self._sales_nav_history(conversation, count)
        history = self._history(conversation)
        start = 0
        cursor = params.get("cursor")
        if cursor is not None:
            if not (isinstance(cursor, str) and cursor.isdigit()):
                raise _Failure(400, "INVALID_PARAMS", "cursor must be an epoch-ms timestamp string.")
            start = bisect.bisect_right(history.neg_ms, -int(cursor))  # strictly older than the cursor
        page = history.rendered[start : start + count]
        data: dict[str, Any] = {
            "total_message_count": len(history.rendered),
            "unread_count": conversation.unread_count or 0,
            "last_seen_message": False,
            "messages": page,
        }
        if start + count < len(history.rendered) and page:
            data["next_cursor"] = str(-history.neg_ms[start + len(page) - 1])
        mark = params.get("mark_as_read")
        if isinstance(mark, bool):
            self._replace(conversation, attrs.evolve(conversation, unread_count=0 if mark else 1))
            data["marked_as_read"] = mark
        return data, self._list_credits(len(page))

    def _history(self, conversation: Conversation) -> _History:
        messages = self.inbox.messages.get(conversation.id, [])
        cached = self._histories.get(conversation.id)
        if cached is None or cached.source is not messages or len(cached.rendered) != len(messages):
            rendered = [self._message(m) for m in messages]
            cached = _History(messages, rendered, [-m["timestamp"] for m in rendered])
            self._histories[conversation.id] = cached
        return cached

    @staticmethod
    def _attachment(attachment: Attachment) -> dict[str, Any]:
        return {
            "type": attachment.kind,
            "url": attachment.url,
            "name": attachment.name,
            "mime_type": mimetypes.guess_type(attachment.name or "")[0],
        }

    def _message(self, message: Message) -> dict[str, Any]:
        sender = message.sender
        item: dict[str, Any] = {
            "text": message.text,
            "timestamp": _ms(message.sent_at),
            "sender": sender.name,
            "sender_info": {
                "first_name": sender.first_name,
                "last_name": sender.last_name,
                "profile_url": sender.profile_url,
            },
            "message_type": _MESSAGE_TYPES.get(message.kind, "TEXT"),
            "entity_urn": message.id,
            "has_attachments": bool(message.attachments),
        }
        if message.subject is not None:
            item["subject"] = message.subject
        if message.attachments:
            item["attachments"] = [self._attachment(a) for a in message.attachments]
        return item

    def _sales_nav_history(self, conversation: Conversation, count: int) -> tuple[dict[str, Any], float]:
        messages = self.inbox.messages.get(conversation.id, [])[:count]
        rendered = []
        for message in messages:
            sender = message.sender
            item = {
                "text": message.text,
                "timestamp": _ms(message.sent_at),
                "sender": sender.name,
                "sender_info": {
                    "first_name": sender.first_name,
                    "last_name": sender.last_name,
                    "profile_url": f"https://www.linkedin.com/in/{_sales_id(sender)}",
                    "recipient_urn": _sales_urn(sender),
                    "is_me": bool(message.outgoing),
                },
                "message_type": "INMAIL" if message.kind is MessageKind.INMAIL else "MESSAGE",
                "entity_urn": parse_message_id(_canonical_id(message)).message_id,
            }
            if message.subject is not None:
                item["subject"] = message.subject
            if message.attachments:
                item["attachments"] = [self._attachment(a) for a in message.attachments]
            rendered.append(item)
        data = {
            "conversation_id": conversation.thread_id,
            "total_message_count": len(self.inbox.messages.get(conversation.id, ())),
            "unread_count": conversation.unread_count or 0,
            "archived": False,
            "type": "inmail" if conversation.category == "inmail" else "normal",
            "participants": [self._sales_person(p, False) for p in conversation.participants],
            "messages": rendered,
        }
        return data, self._list_credits(len(rendered))

    # -- send ------------------------------------------------------------------

    def _send(self, params: dict[str, Any]) -> tuple[dict[str, Any], float]:
        text = params.get("message_text")
        if not isinstance(text, str) or not text:
            raise _Failure(400, "INVALID_PARAMS", "message_text is required")
        recipient_urn = params.get("recipient_urn")
        profile_url = params.get("profile_url")
        if recipient_urn is not None:
            profile = recipient_urn
        elif profile_url is not None:
            profile = profile_url
        else:
            raise _Failure(400, "INVALID_PARAMS", "profile_url is required")
        if not isinstance(profile, str):
            raise _Failure(400, "INVALID_PARAMS", "profile_url must be a string")
        inmail = params.get("inmail") is True or recipient_urn is not None
        media = params.get("media_link")
        conversation = self._conversation_with(profile)
        now = self.now()
        history = self.inbox.messages[conversation.id]
        ms = max(_ms(now), _ms(history[0].sent_at) + 1 if history else 0)
        key = message_id_for(ms, len(history), _thread_uuid(conversation.thread_id or ""))
        owner = self.inbox.owner
        message = Message(
            id=message_urn(owner.urn or "", key),
            conversation_id=conversation.id,
            text=text,
            sent_at=_EPOCH + timedelta(milliseconds=ms),
            sender=owner,
            outgoing=True,
            kind=MessageKind.INMAIL if inmail else (MessageKind.MEDIA if media else MessageKind.TEXT),
            subject=params.get("subject") if isinstance(params.get("subject"), str) else None,
            attachments=(Attachment("file", media),) if isinstance(media, str) else (),
        )
        history.insert(0, message)
        self._replace(
            conversation, attrs.evolve(conversation, latest_message=message, last_activity_at=message.sent_at)
        )
        credits = 2.0 if media else 1.0
        if inmail:
            data: dict[str, Any] = {
                "status": "success",
                "message": "InMail sent",
                "recipient_urn": recipient_urn or _sales_urn(conversation.participants[0]),
                "data": {"value": {"threadId": conversation.thread_id, "messageId": key}},
            }
        elif self.send_shape == "flat":
            data = {
                "entityUrn": f"urn:li:messagingMessage:{key}",
                "conversation_id": conversation.thread_id,
                "deliveredAt": message.sent_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
        else:
            data = {
                "status": "success",
                "data": {"entityUrn": message.id, "conversation_id": conversation.id, "deliveredAt": ms},
            }
        return data, credits

    def _conversation_with(self, profile: str) -> Conversation:
        """The one-to-one conversation with ``profile``, opened if there is none."""
        for conversation in self.inbox.conversations:
            if len(conversation.participants) == 1 and _same_person(conversation.participants[0], profile):
                return conversation
        try:
            ref = parse_profile(profile)
        except InvalidIdentifier:
            raise _Failure(400, "INVALID_PARAMS", "profile_url is not a LinkedIn profile URL") from None
        n = len(self.inbox.conversations)
        thread = thread_id_for(f"{n:08x}-0000-4000-8000-{n:012x}")
        other = Participant(id=ref.key, urn=ref.urn, public_id=ref.public_id, profile_url=ref.url, is_self=False)
        conversation = Conversation(
            id=conversation_urn(self.inbox.owner.urn or "", thread),
            thread_id=thread,
            participants=(other,),
            unread_count=0,
            category="inbox",
        )
        self.inbox.add(conversation, [])
        return conversation

    def _replace(self, old: Conversation, new: Conversation) -> None:
        conversations = self.inbox.conversations
        conversations[conversations.index(old)] = new


def _member_ref(value: Any) -> ProfileRef | None:
    if not isinstance(value, str):
        return None
    try:
        ref = parse_profile(value)
    except InvalidIdentifier:
        return None
    if ref.profile_id is not None and ref.profile_id.startswith("ACwAA"):
        # The emulator's Sales Navigator ids mirror member ids (see _sales_id).
        member = "ACoAA" + ref.profile_id[5:]
        return ProfileRef(f"urn:li:fsd_profile:{member}", member, None)
    return ref


def _same_person(participant: Participant, profile: Any) -> bool:
    ref = _member_ref(profile)
    if ref is None:
        return False
    if ref.urn is not None and ref.urn == participant.urn:
        return True
    if ref.public_id is not None and ref.public_id == participant.public_id:
        return True
    own = _member_ref(participant.profile_url)
    return own is not None and own == ref


def _canonical_id(message: Message) -> str:
    assert message.id is not None, "a canonical inbox message always has an id"
    return message.id
