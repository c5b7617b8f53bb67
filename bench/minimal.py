"""``bench-minimal``: a reference vendor (provider + emulator) built the way design.md says.

It exists so the harness runs (and is tested) before, or without, the
first-party provider plugins: a provider of the documented shape (sans-IO
operations, cattrs payload classes, plain mapping functions, ms-timestamp
paging through :class:`linkmsg.paging.TimeAnchor`) and an emulator that renders
an :class:`~linkmsg.memory.Inbox` as its JSON. Its JSON looks like LinkupAPI
v2's (flattened sender, epoch-ms timestamps, message URNs).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import httpx

from linkmsg.identity import parse_conversation_id
from linkmsg.memory import Inbox
from linkmsg.model import Capability, Conversation, Message, Participant
from linkmsg.paging import TimeAnchor
from linkmsg.payload import field, structure
from linkmsg.provider import (
    ConversationTarget,
    HTTPSettings,
    Operation,
    Position,
    Provider,
    Request,
    Settings,
    VendorPage,
    secret,
)
from linkmsg.timestamps import from_epoch_ms, to_epoch_ms

NAME = "bench-minimal"
API_KEY = "bench-key-0123456789"


@attrs.frozen(kw_only=True, slots=True)
class MinimalSettings(HTTPSettings):
    api_key: str = secret()
    base_url: str = "http://127.0.0.1:1"


@attrs.frozen(slots=True)
class _Sender:
    name: str | None = None
    urn: str | None = field("profileUrn", default=None)
    profile_url: str | None = field("profileUrl", default=None)
    is_me: bool | None = field("isMe", default=None)


@attrs.frozen(slots=True)
class _Message:
    id: str = field("entityUrn")
    text: str = field("text")
    sent_at: int = field("sentAt")
    sender: _Sender = field("sender")


@attrs.frozen(slots=True)
class _MessagePage:
    messages: list[_Message] = field("messages")
    next_cursor: str | None = field("nextCursor", default=None)


@attrs.frozen(slots=True)
class _Conversation:
    id: str = field("conversationUrn")
    participants: list[_Sender] = field("participants")
    unread: int = field("unread", default=0)
    last_activity: int | None = field("lastActivityAt", default=None)


@attrs.frozen(slots=True)
class _ConversationPage:
    conversations: list[_Conversation] = field("conversations")
    next_offset: int | None = field("nextOffset", default=None)


def _participant(s: _Sender) -> Participant:
    return Participant(id=s.urn, urn=s.urn, name=s.name, profile_url=s.profile_url, is_self=s.is_me)


class MinimalProvider(Provider):
    name: ClassVar[str] = NAME
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.LIST_CONVERSATIONS, Capability.READ_HISTORY})
    settings_class: ClassVar[type[Settings]] = MinimalSettings
    default_page_size: ClassVar[int] = 20
    max_page_size: ClassVar[int] = 100

    def auth_headers(self) -> Mapping[str, str]:
        assert isinstance(self.settings, MinimalSettings)
        return {"x-api-key": self.settings.api_key}

    def list_conversations(
        self,
        *,
        limit: int,
        unread: bool | None,
        keywords: str | None,
        position: Position | None,
        options: Mapping[str, Any],
    ) -> Operation[VendorPage[Conversation]]:
        offset = position if isinstance(position, int) else 0
        response = yield Request("GET", "/conversations", params={"count": limit, "offset": offset})
        page = structure(response.data, _ConversationPage, provider=NAME)
        items = [
            Conversation(
                id=c.id,
                thread_id=parse_conversation_id(c.id).thread_id,
                participants=tuple(_participant(p) for p in c.participants),
                unread_count=c.unread,
                last_activity_at=None if c.last_activity is None else from_epoch_ms(c.last_activity),
            )
            for c in page.conversations
        ]
        return VendorPage(items, page.next_offset)

    def list_messages(
        self, target: ConversationTarget, *, limit: int, position: Position | None
    ) -> Operation[VendorPage[Message]]:
        anchor = None if position is None else TimeAnchor.from_position(position)
        conv_id = target.ref.urn or target.ref.thread_id
        params: dict[str, Any] = {"conversation": conv_id, "count": limit}
        if anchor is not None:
            params["cursor"] = str(anchor.request_cursor)
        response = yield Request("GET", "/messages", params=params)
        page = structure(response.data, _MessagePage, provider=NAME)
        raw = page.messages
        if anchor is not None:
            raw = anchor.filter(raw, lambda m: m.sent_at, lambda m: m.id)
        items = [
            Message(
                id=m.id,
                conversation_id=conv_id,
                text=m.text,
                sent_at=from_epoch_ms(m.sent_at),
                sender=_participant(m.sender),
                outgoing=m.sender.is_me,
            )
            for m in raw
        ]
        nxt = None
        if page.next_cursor is not None:
            after = TimeAnchor.after(page.messages, lambda m: m.sent_at, lambda m: m.id, anchor)
            nxt = after.to_position() if after else None
        return VendorPage(items, nxt)


def register() -> None:
    """Add the provider to linkmsg's registry (bench only; it has no entry point)."""
    from linkmsg.registry import registry

    registry.ensure_loaded()
    if NAME not in registry._providers:
        registry._add(MinimalProvider, "bench", "0")


# ---------------------------------------------------------------- emulator


def _sender_json(p: Participant, owner: Participant) -> dict[str, Any]:
    return {"name": p.name, "profileUrn": p.urn, "profileUrl": p.profile_url, "isMe": p.urn == owner.urn}


class MinimalEmulator:
    """Renders an inbox as bench-minimal JSON; history pages by ``cursor`` (ms, exclusive)."""

    def __init__(self, inbox: Inbox, api_key: str = API_KEY) -> None:
        self.inbox = inbox
        self.api_key = api_key
        self._ms: dict[str, list[int]] = {}

    def _negated_ms(self, conv_id: str) -> list[int]:
        if conv_id not in self._ms:
            self._ms[conv_id] = [-to_epoch_ms(m.sent_at) for m in self.inbox.messages[conv_id]]
        return self._ms[conv_id]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-api-key") != self.api_key:
            return httpx.Response(401, json={"error": "bad key"})
        q = request.url.params
        count = int(q.get("count", "20"))
        owner = self.inbox.owner
        if request.url.path == "/conversations":
            offset = int(q.get("offset", "0"))
            convs = self.inbox.sorted_conversations()
            page = convs[offset : offset + count]
            return httpx.Response(
                200,
                json={
                    "conversations": [
                        {
                            "conversationUrn": c.id,
                            "participants": [_sender_json(p, owner) for p in c.participants],
                            "unread": c.unread_count or 0,
                            "lastActivityAt": to_epoch_ms(c.last_activity_at) if c.last_activity_at else None,
                        }
                        for c in page
                    ],
                    "nextOffset": offset + count if offset + count < len(convs) else None,
                },
            )
        if request.url.path == "/messages":
            conv = self.inbox.conversation(q["conversation"])
            history = self.inbox.messages[conv.id]
            start = 0
            if "cursor" in q:
                start = bisect.bisect_left(self._negated_ms(conv.id), -int(q["cursor"]) + 1)
            page = history[start : start + count]
            body = {
                "messages": [
                    {
                        "entityUrn": m.id,
                        "text": m.text,
                        "sentAt": to_epoch_ms(m.sent_at),
                        "sender": _sender_json(m.sender, owner),
                        "type": "TEXT",
                    }
                    for m in page
                ],
            }
            if start + count < len(history) and page:
                body["nextCursor"] = str(to_epoch_ms(page[-1].sent_at))
            return httpx.Response(200, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
        return httpx.Response(404, json={"error": "no such endpoint"})
