"""The conformance kit every linkmsg provider passes (needs pytest).

Import it as ``linkmsg.testing.ProviderConformance``; this module is loaded
only then, so the rest of :mod:`linkmsg.testing` works without pytest.

In the spirit of fsspec's abstract tests: subclass :class:`ProviderConformance`
in your plugin's test suite, say how to build an *emulator* (a callable that
renders a canonical :class:`~linkmsg.memory.Inbox` as your vendor's JSON and
answers ``httpx.Request`` objects), and pytest runs the whole contract against
your provider through ``httpx.MockTransport``, in both clients::

    from linkmsg.testing import ProviderConformance

    class TestConformance(ProviderConformance):
        provider = "acme"
        client_settings = {"api_key": "test-key"}
        message_fields = ("id", "conversation_id", "text", "sent_at", "sender.name")
        required_message_key = "sentAt"

        def make_emulator(self, inbox):
            return AcmeEmulator(inbox, api_key="test-key")
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, ClassVar

import httpx
import pytest

from linkmsg import cursor as _cursor
from linkmsg.client import AsyncClient, Client
from linkmsg.errors import InvalidCursor, ResponseShapeError, UnsupportedOperation
from linkmsg.memory import Inbox, demo_inbox
from linkmsg.model import Capability, Conversation, Message

__all__ = ["BASE_URL", "Emulator", "ProviderConformance", "RecordingEmulator", "conformance_inbox"]

BASE_URL = "https://emulator.invalid"
Emulator = Callable[[httpx.Request], httpx.Response]
_EXTRA_KEY = "linkmsgConformanceExtra"


def conformance_inbox() -> Inbox:
    """7 conversations of 25 messages: 3 pages of each at page sizes 3 and 10,
    with two messages sharing one millisecond across the first message page boundary."""
    return demo_inbox(seed=11, conversations=7, messages_per_conversation=25)


def _attr(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = None if obj is None else getattr(obj, part)
    return obj


def _inject_extra(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _inject_extra(v) for k, v in value.items()}
        out[_EXTRA_KEY] = {"added": [1, "two", None]}
        return out
    if isinstance(value, list):
        return [_inject_extra(v) for v in value]
    return value


def _drop_key(key: str) -> Callable[[Any], Any]:
    def drop(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop(v) for k, v in value.items() if k != key}
        if isinstance(value, list):
            return [drop(v) for v in value]
        return value

    return drop


class RecordingEmulator:
    """Wraps an emulator: counts calls, and can rewrite every JSON body it returns."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.calls = 0
        self.transform: Callable[[Any], Any] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        response = self.emulator(request)
        if self.transform is None:
            return response
        try:
            data = json.loads(response.read())
        except ValueError:
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, json=self.transform(data))


class ProviderConformance:
    """Abstract test class; see the module docstring."""

    provider: ClassVar[str]
    client_settings: ClassVar[dict[str, Any]] = {}
    conversation_fields: ClassVar[tuple[str, ...]] = ("id", "thread_id")
    message_fields: ClassVar[tuple[str, ...]] = ("id", "conversation_id", "text", "sent_at")
    #: A vendor JSON key of a message whose absence must raise ResponseShapeError.
    required_message_key: ClassVar[str | None] = None
    conversation_page_size: ClassVar[int] = 3
    message_page_size: ClassVar[int] = 10

    def make_emulator(self, inbox: Inbox) -> Emulator | None:
        """The vendor emulator for ``inbox`` (None for providers without HTTP)."""
        raise NotImplementedError

    def client_kwargs(self, inbox: Inbox, emulator: RecordingEmulator | None) -> dict[str, Any]:
        kwargs = dict(self.client_settings)
        if emulator is not None:
            kwargs.setdefault("base_url", BASE_URL)
        return kwargs

    # -- fixtures ----------------------------------------------------------

    @pytest.fixture
    def inbox(self) -> Inbox:
        return conformance_inbox()

    @pytest.fixture
    def emulator(self, inbox: Inbox) -> RecordingEmulator | None:
        inner = self.make_emulator(inbox)
        return None if inner is None else RecordingEmulator(inner)

    @pytest.fixture
    def client(self, inbox: Inbox, emulator: RecordingEmulator | None) -> Iterator[Client]:
        with self.new_client(inbox, emulator) as client:
            yield client

    def new_client(self, inbox: Inbox, emulator: RecordingEmulator | None) -> Client:
        transport = httpx.MockTransport(emulator) if emulator is not None else None
        return Client(self.provider, http_transport=transport, **self.client_kwargs(inbox, emulator))

    def new_async_client(self, inbox: Inbox, emulator: RecordingEmulator | None) -> AsyncClient:
        transport = httpx.MockTransport(emulator) if emulator is not None else None
        return AsyncClient(self.provider, http_transport=transport, **self.client_kwargs(inbox, emulator))

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def expected_conversations(inbox: Inbox) -> list[Conversation]:
        return inbox.sorted_conversations()

    def assert_same(self, actual: Any, expected: Any, fields: tuple[str, ...]) -> None:
        for path in fields:
            got, want = _attr(actual, path), _attr(expected, path)
            assert got == want, f"{path}: {got!r} != {want!r} (id {getattr(expected, 'id', '?')})"

    def all_conversation_pages(self, client: Client) -> list[list[Conversation]]:
        pages, cursor = [], None
        for _ in range(100):
            page = client.list_conversations(limit=self.conversation_page_size, cursor=cursor)
            pages.append(list(page.items))
            if page.next_cursor is None:
                return pages
            assert page.has_more
            cursor = str(page.next_cursor)
        raise AssertionError("conversation listing did not end within 100 pages")

    def all_message_pages(self, client: Client, conversation: Conversation | str) -> list[list[Message]]:
        pages, cursor = [], None
        for _ in range(100):
            page = client.list_messages(conversation, limit=self.message_page_size, cursor=cursor)
            pages.append(list(page.items))
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor
        raise AssertionError("message history did not end within 100 pages")

    def check_messages(self, got: list[Message], want: list[Message]) -> None:
        ids = [m.id for m in got]
        assert len(ids) == len(set(ids)), "a message came back twice"
        assert set(ids) == {m.id for m in want}, "messages lost or invented"
        times = [m.sent_at for m in got]
        assert times == sorted(times, reverse=True), "messages are not newest first"
        by_id = {m.id: m for m in want}
        for message in got:
            self.assert_same(message, by_id[message.id], self.message_fields)

    # -- the contract ------------------------------------------------------

    def test_conversations_exactly_once_across_pages(self, client: Client, inbox: Inbox) -> None:
        pages = self.all_conversation_pages(client)
        assert len(pages) >= 3, f"expected at least 3 pages, got {len(pages)}"
        got = [c for page in pages for c in page]
        want = self.expected_conversations(inbox)
        assert [c.id for c in got] == [c.id for c in want]
        for actual, expected in zip(got, want, strict=True):
            self.assert_same(actual, expected, self.conversation_fields)

    def test_iter_conversations_matches_canonical_inbox(self, client: Client, inbox: Inbox) -> None:
        got = list(client.iter_conversations(page_size=self.conversation_page_size))
        assert [c.id for c in got] == [c.id for c in self.expected_conversations(inbox)]

    def test_every_history_exactly_once_newest_first(self, client: Client, inbox: Inbox) -> None:
        for conversation in self.expected_conversations(inbox):
            pages = self.all_message_pages(client, conversation.id)
            assert len(pages) >= 3, f"expected at least 3 pages, got {len(pages)}"
            self.check_messages([m for page in pages for m in page], inbox.messages[conversation.id])

    def test_iter_messages_accepts_conversation_objects(self, client: Client, inbox: Inbox) -> None:
        conversation = next(iter(client.iter_conversations()))
        got = list(client.iter_messages(conversation, page_size=self.message_page_size))
        self.check_messages(got, inbox.messages[conversation.id])

    def test_async_client_returns_the_same(
        self, client: Client, inbox: Inbox, emulator: RecordingEmulator | None
    ) -> None:
        async def read() -> tuple[list[str], dict[str, list[Message]]]:
            async with self.new_async_client(inbox, emulator) as aclient:
                ids = [c.id async for c in aclient.iter_conversations(page_size=self.conversation_page_size)]
                histories = {}
                for cid in ids[:3]:
                    histories[cid] = [m async for m in aclient.iter_messages(cid, page_size=self.message_page_size)]
                return ids, histories

        ids, histories = asyncio.run(read())
        assert ids == [c.id for c in client.iter_conversations(page_size=self.conversation_page_size)]
        for cid, messages in histories.items():
            assert messages == list(client.iter_messages(cid, page_size=self.message_page_size))

    def test_cursor_survives_str_and_a_new_client(
        self, client: Client, inbox: Inbox, emulator: RecordingEmulator | None
    ) -> None:
        conversation = self.expected_conversations(inbox)[0]
        first = client.list_messages(conversation.id, limit=self.message_page_size)
        assert first.next_cursor is not None
        stored = str(first.next_cursor)
        expected = client.list_messages(conversation.id, limit=self.message_page_size, cursor=stored)
        with self.new_client(inbox, emulator) as fresh:
            resumed = fresh.list_messages(conversation.id, limit=self.message_page_size, cursor=stored)
        assert resumed.items == expected.items
        conv_page = client.list_conversations(limit=self.conversation_page_size)
        with self.new_client(inbox, emulator) as fresh:
            again = fresh.list_conversations(limit=self.conversation_page_size, cursor=conv_page.next_cursor)
        assert [c.id for c in again.items] == [
            c.id for c in client.list_conversations(limit=self.conversation_page_size, cursor=conv_page.next_cursor)
        ]

    def test_foreign_and_corrupted_cursors_raise_before_any_request(
        self, client: Client, inbox: Inbox, emulator: RecordingEmulator | None
    ) -> None:
        conversations = self.expected_conversations(inbox)
        message_cursor = client.list_messages(conversations[0].id, limit=self.message_page_size).next_cursor
        assert message_cursor is not None
        calls = emulator.calls if emulator else 0
        foreign = _cursor.encode("some-other-provider", "conversations", {"unread": None, "keywords": None}, 1)
        bad = [
            foreign,
            message_cursor[:-3] + ("A" if message_cursor[-3] != "A" else "B") + message_cursor[-2:],
            message_cursor[:12],
            "not-a-cursor",
        ]
        for token in bad:
            with pytest.raises(InvalidCursor):
                client.list_conversations(cursor=token)
        with pytest.raises(InvalidCursor):
            client.list_conversations(cursor=message_cursor)  # a history cursor is not a list cursor
        with pytest.raises(InvalidCursor):
            client.list_messages(conversations[1].id, cursor=message_cursor)  # another thread's
        assert (emulator.calls if emulator else 0) == calls

    def test_timestamps_are_aware_utc(self, client: Client) -> None:
        for conversation in client.iter_conversations():
            if conversation.last_activity_at is not None:
                assert conversation.last_activity_at.utcoffset() == timedelta(0)
            for message in client.list_messages(conversation, limit=self.message_page_size).items:
                assert message.sent_at.utcoffset() == timedelta(0)

    def test_undeclared_operations_raise_without_a_request(
        self, client: Client, inbox: Inbox, emulator: RecordingEmulator | None
    ) -> None:
        conversation = self.expected_conversations(inbox)[0]
        profile = "https://www.linkedin.com/in/john-doe-123"
        attempts: dict[Capability, Callable[[], object]] = {
            Capability.FILTER_UNREAD: lambda: client.list_conversations(unread=True),
            Capability.FILTER_KEYWORDS: lambda: client.list_conversations(keywords="hello"),
            Capability.READ_HISTORY: lambda: client.list_messages(conversation.id),
            Capability.TYPING: lambda: client.send_typing(conversation.id),
            Capability.MARK_READ: lambda: client.mark_read(conversation.id),
            Capability.SEND_TO_PROFILE: lambda: client.send_message("hi", to=profile),
            Capability.INMAIL: lambda: client.send_message("hi", to=profile, inmail=True, subject="s"),
        }
        missing = [cap for cap in attempts if cap not in client.capabilities]
        if not missing:
            pytest.skip("the provider declares every capability this test can probe")
        calls = emulator.calls if emulator else 0
        for capability in missing:
            if capability is Capability.INMAIL and Capability.SEND_TO_PROFILE not in client.capabilities:
                continue
            with pytest.raises(UnsupportedOperation) as info:
                attempts[capability]()
            assert info.value.provider == self.provider
        assert (emulator.calls if emulator else 0) == calls

    def test_unknown_extra_fields_are_tolerated(
        self, client: Client, inbox: Inbox, emulator: RecordingEmulator | None
    ) -> None:
        if emulator is None:
            pytest.skip("no vendor JSON to extend")
        conversation = self.expected_conversations(inbox)[0]
        plain = [c.id for c in client.iter_conversations()], list(client.iter_messages(conversation.id))
        emulator.transform = _inject_extra
        extended = [c.id for c in client.iter_conversations()], list(client.iter_messages(conversation.id))
        assert extended == plain

    def test_missing_required_field_names_its_path(
        self, client: Client, inbox: Inbox, emulator: RecordingEmulator | None
    ) -> None:
        if emulator is None or self.required_message_key is None:
            pytest.skip("no required vendor key declared")
        conversation = self.expected_conversations(inbox)[0]
        emulator.transform = _drop_key(self.required_message_key)
        with pytest.raises(ResponseShapeError) as info:
            client.list_messages(conversation.id, limit=self.message_page_size)
        assert self.required_message_key in info.value.path
