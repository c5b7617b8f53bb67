"""The memory provider through Client and AsyncClient: what a user of the library sees."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import attrs
import httpx
import pytest

import linkmsg
from linkmsg.errors import (
    InvalidArgument,
    InvalidIdentifier,
    LinkmsgError,
    NotFoundError,
    PaginationError,
    UnsupportedOperation,
)
from linkmsg.identity import parse_conversation_id
from linkmsg.memory import Inbox, MemoryProvider, demo_inbox, thread_id_for
from linkmsg.model import Capability, Conversation, Message, MessageKind, Participant, SendResult
from linkmsg.provider import (
    ConversationTarget,
    HTTPSettings,
    Operation,
    Position,
    Provider,
    Request,
    SendRequest,
    Settings,
    VendorPage,
)
from tests.fakes import isolate, run, use_providers

PROFILE_URN = re.compile(r"urn:li:fsd_profile:ACoAA[A-Za-z0-9_-]+")
THREAD_ID = re.compile(r"2-[A-Za-z0-9+/]+={0,2}")


def _aware_utc(value: datetime | None) -> bool:
    return value is not None and value.tzinfo is not None and value.utcoffset() == timedelta(0)


# ------------------------------------------------------------------ test providers


@attrs.frozen(kw_only=True, slots=True)
class FewSettings(HTTPSettings):
    base_url: str = "https://few.invalid"


class Few(Provider):
    """An HTTP provider that only lists conversations and reads history.

    It implements every operation anyway, so a request would reach the mock
    transport if the client did not refuse the call first.
    """

    name: ClassVar[str] = "few"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.LIST_CONVERSATIONS, Capability.READ_HISTORY})
    settings_class: ClassVar[type[Settings]] = FewSettings

    def list_conversations(self, **kwargs: Any) -> Operation[VendorPage[Conversation]]:
        yield Request("GET", "/conversations")
        return VendorPage([])

    def list_messages(self, target: ConversationTarget, **kwargs: Any) -> Operation[VendorPage[Message]]:
        yield Request("GET", "/messages")
        return VendorPage([])

    def send_message(self, request: SendRequest) -> Operation[SendResult]:
        yield Request("POST", "/send", json={"text": request.text}, is_send=True)
        return SendResult(None, None, None)

    def send_typing(self, target: ConversationTarget) -> Operation[None]:
        yield Request("POST", "/typing")

    def mark_read(self, target: ConversationTarget) -> Operation[None]:
        yield Request("POST", "/read")


@attrs.frozen(kw_only=True, slots=True)
class ScriptedSettings(Settings):
    script: str = "overlap"


_T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_THREAD = thread_id_for("0badcafe-0000-4000-8000-000000000001")


def _conv(key: str) -> Conversation:
    return Conversation(id=f"conv-{key}", thread_id=None, last_activity_at=_T0)


def _msg(key: str) -> Message:
    return Message(id=f"msg-{key}", conversation_id=None, text=key, sent_at=_T0, sender=Participant(name=key))


class Scripted(Provider):
    """Pages from a script, to show what the client's paging does with misbehaving vendors.

    * ``overlap``: pages ``abc``, ``cde``, ``ef`` (items repeated across pages);
    * ``same-cursor``: new items on every page but always the same next position;
    * ``stuck``: always the same items, with a new next position every time.
    """

    name: ClassVar[str] = "scripted"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.LIST_CONVERSATIONS, Capability.READ_HISTORY})
    settings_class: ClassVar[type[Settings]] = ScriptedSettings

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        assert isinstance(settings, ScriptedSettings)
        self.script = settings.script
        self.calls = 0

    def _page(self, position: Position | None) -> tuple[list[str], Position | None]:
        self.calls += 1
        if self.calls > 50:
            raise RuntimeError("the client kept asking: it would have looped forever")
        if self.script == "overlap":
            pages: Mapping[Any, tuple[list[str], Position | None]] = {
                None: (["a", "b", "c"], 1),
                1: (["c", "d", "e"], 2),
                2: (["e", "f"], None),
            }
            return pages[position]
        if self.script == "same-cursor":
            return [f"item{self.calls}"], "the-same"
        return ["a", "b"], self.calls  # stuck

    def list_conversations(self, *, position: Position | None, **kwargs: Any) -> Operation[VendorPage[Conversation]]:
        keys, nxt = self._page(position)
        return VendorPage([_conv(k) for k in keys], nxt)
        yield

    def list_messages(
        self, target: ConversationTarget, *, limit: int, position: Position | None
    ) -> Operation[VendorPage[Message]]:
        keys, nxt = self._page(position)
        return VendorPage([_msg(k) for k in keys], nxt)
        yield


class EmulatedKeywords(MemoryProvider):
    """A vendor without a keyword filter: the client filters its pages itself."""

    name: ClassVar[str] = "emulated-keywords"
    emulated: ClassVar[frozenset[Capability]] = frozenset({Capability.FILTER_KEYWORDS})


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)
    use_providers(monkeypatch, Few, Scripted, EmulatedKeywords)


@pytest.fixture
def client() -> linkmsg.Client:
    return linkmsg.Client("memory")


def _all_pages(list_page: Any, limit: int) -> list[list[Any]]:
    pages, cursor = [], None
    while True:
        page = list_page(limit=limit, cursor=cursor)
        pages.append(list(page.items))
        cursor = page.next_cursor
        if cursor is None:
            return pages


# ------------------------------------------------------------------ listing conversations


def test_conversations_newest_first_each_once_across_pages(client: linkmsg.Client) -> None:
    pages = _all_pages(client.list_conversations, limit=7)
    assert len(pages) >= 3
    flat = [c for page in pages for c in page]
    assert len(flat) == len({c.id for c in flat}) == 30
    times = [c.last_activity_at for c in flat]
    assert times == sorted(times, reverse=True)
    assert [c.id for c in client.iter_conversations(page_size=7)] == [c.id for c in flat]
    assert [c.id for c in client.iter_conversations()] == [c.id for c in flat]


def test_page_reports_total_and_has_more(client: linkmsg.Client) -> None:
    page = client.list_conversations(limit=10)
    assert (len(page), page.has_more, page.total) == (10, True, 30)
    assert list(page) == list(page.items)


def test_limit_above_the_provider_maximum_is_capped(client: linkmsg.Client) -> None:
    assert len(client.list_conversations(limit=10_000)) == 30


def test_unread_filter_applies_on_every_page(client: linkmsg.Client) -> None:
    expected = [c.id for c in client.iter_conversations() if c.unread_count]
    assert len(expected) >= 5
    pages = _all_pages(lambda **kw: client.list_conversations(unread=True, **kw), limit=2)
    assert len(pages) >= 3
    assert all(c.unread_count for page in pages for c in page)
    assert [c.id for page in pages for c in page] == expected
    assert [c.id for c in client.iter_conversations(unread=True, page_size=2)] == expected


def _mentions(conversation: Conversation, word: str) -> bool:
    texts = [p.name or "" for p in conversation.participants]
    if conversation.latest_message is not None:
        texts += [conversation.latest_message.text, conversation.latest_message.subject or ""]
    return any(word.casefold() in text.casefold() for text in texts)


def test_keyword_filter_applies_on_every_page(client: linkmsg.Client) -> None:
    everything = list(client.iter_conversations())
    expected = [c.id for c in everything if _mentions(c, "you")]
    assert 6 <= len(expected) < len(everything)
    pages = _all_pages(lambda **kw: client.list_conversations(keywords="you", **kw), limit=2)
    assert len(pages) >= 3
    assert all(_mentions(c, "you") for page in pages for c in page)
    assert [c.id for page in pages for c in page] == expected


def test_keywords_are_case_insensitive_and_match_names(client: linkmsg.Client) -> None:
    found = list(client.iter_conversations(keywords="AÏCHA"))
    assert found and all(any("Aïcha" in (p.name or "") for p in c.participants) for c in found)


def test_filters_combine(client: linkmsg.Client) -> None:
    both = [c.id for c in client.iter_conversations(unread=True, keywords="a")]
    assert both == [c.id for c in client.iter_conversations(unread=True) if _mentions(c, "a")]


def test_unread_false_lists_everything(client: linkmsg.Client) -> None:
    assert len(list(client.iter_conversations(unread=False))) == 30


# ------------------------------------------------------------------ reading history


def test_messages_newest_first_each_once_across_pages(client: linkmsg.Client) -> None:
    conv = client.list_conversations(limit=1).items[0]
    pages = _all_pages(lambda **kw: client.list_messages(conv, **kw), limit=6)
    assert len(pages) >= 3
    flat = [m for page in pages for m in page]
    assert len(flat) == len({m.id for m in flat}) == 20
    times = [m.sent_at for m in flat]
    assert times == sorted(times, reverse=True)
    assert all(m.conversation_id == conv.id for m in flat)
    assert [m.id for m in client.iter_messages(conv, page_size=6)] == [m.id for m in flat]


def test_history_by_any_spelling_of_the_conversation(client: linkmsg.Client) -> None:
    conv = client.list_conversations(limit=1).items[0]
    expected = [m.id for m in client.iter_messages(conv)]
    newest = client.list_messages(conv, limit=1).items[0]
    for spelling in (conv.id, conv.thread_id, f"urn:li:messagingThread:{conv.thread_id}", newest.id):
        assert [m.id for m in client.iter_messages(spelling)] == expected


def test_unknown_conversation_is_not_found(client: linkmsg.Client) -> None:
    with pytest.raises(NotFoundError):
        client.list_messages(_THREAD)


# ------------------------------------------------------------------ sending


def test_reply_appends_and_shows_up_everywhere(client: linkmsg.Client) -> None:
    conv = list(client.iter_conversations())[5]
    result = client.send_message("Thanks — see you Tuesday 👋", conversation=conv)
    assert result.conversation_id == conv.id
    assert result.delivered is True and _aware_utc(result.sent_at)

    newest = client.list_messages(conv, limit=1).items[0]
    assert newest.id == result.message_id
    assert (newest.text, newest.outgoing, newest.sender.is_self) == ("Thanks — see you Tuesday 👋", True, True)
    assert parse_conversation_id(newest.id).thread_id == conv.thread_id  # a real message id naming its thread

    top = client.list_conversations(limit=1).items[0]
    assert top.id == conv.id and top.latest_message == newest
    assert len(list(client.iter_messages(conv))) == 21


def test_send_to_a_known_profile_reuses_the_thread(client: linkmsg.Client) -> None:
    conv = next(c for c in client.iter_conversations() if len(c.participants) == 1)
    person = conv.participants[0]
    for to in (person, person.urn, person.profile_url):
        assert client.send_message("hello again", to=to).conversation_id == conv.id
    assert len(list(client.iter_conversations())) == 30


def test_send_to_a_new_profile_opens_a_thread_once(client: linkmsg.Client) -> None:
    first = client.send_message("Nice to meet you", to="jane-doe-42")
    again = client.send_message("One more thing", to="https://www.linkedin.com/in/jane-doe-42/")
    assert first.conversation_id == again.conversation_id
    top = client.list_conversations(limit=1).items[0]
    assert top.id == first.conversation_id and top.participants[0].public_id == "jane-doe-42"
    assert [m.text for m in client.iter_messages(top)] == ["One more thing", "Nice to meet you"]
    assert len(list(client.iter_conversations())) == 31


def test_inmail_with_subject_and_no_typing(client: linkmsg.Client) -> None:
    conv = client.list_conversations(limit=1).items[0]
    client.send_message("Hi", conversation=conv, typing=False, subject="Role at Acme", inmail=True)
    newest = client.list_messages(conv, limit=1).items[0]
    assert (newest.kind, newest.subject) == (MessageKind.INMAIL, "Role at Acme")


def test_typing_indicator(client: linkmsg.Client) -> None:
    conv = client.list_conversations(limit=1).items[0]
    assert client.send_typing(conv) is None
    with pytest.raises(NotFoundError):
        client.send_typing(_THREAD)


def test_mark_read_clears_unread(client: linkmsg.Client) -> None:
    unread = list(client.iter_conversations(unread=True))
    target = unread[1]
    client.mark_read(target.thread_id)
    client.mark_read(target)  # twice is fine
    after = [c.id for c in client.iter_conversations(unread=True)]
    assert target.id not in after and len(after) == len(unread) - 1
    again = next(c for c in client.iter_conversations() if c.id == target.id)
    assert again.unread_count == 0


# ------------------------------------------------------------------ async client


async def test_async_client_lists_iterates_sends_and_marks_read() -> None:
    sync_ids = [c.id for c in linkmsg.Client("memory").iter_conversations()]
    async with linkmsg.AsyncClient("memory") as aclient:
        page = await aclient.list_conversations(limit=7)
        assert len(page) == 7 and page.next_cursor
        assert [c.id async for c in aclient.iter_conversations(page_size=7)] == sync_ids
        unread = [c async for c in aclient.iter_conversations(unread=True, page_size=2)]
        assert unread and all(c.unread_count for c in unread)

        conv = unread[0]
        history = [m async for m in aclient.iter_messages(conv, page_size=6)]
        assert len(history) == len({m.id for m in history}) == 20

        result = await aclient.send_message("async hello", conversation=conv)
        newest = (await aclient.list_messages(conv, limit=1)).items[0]
        assert newest.id == result.message_id and newest.text == "async hello"

        await aclient.mark_read(conv)
        assert conv.id not in [c.id async for c in aclient.iter_conversations(unread=True)]


async def test_async_client_refuses_the_same_bad_arguments() -> None:
    async with linkmsg.AsyncClient("memory") as aclient:
        with pytest.raises(InvalidArgument):
            await aclient.list_conversations(limit=0)
        with pytest.raises(InvalidArgument):
            await aclient.send_message("   ", conversation=_THREAD)


# ------------------------------------------------------------------ capabilities


@pytest.fixture
def few() -> tuple[linkmsg.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    return linkmsg.Client("few", http_transport=httpx.MockTransport(handler)), seen


@pytest.mark.parametrize(
    ("call", "capability"),
    [
        (lambda c: c.send_message("hi", to="jane-doe-42"), "send_to_profile"),
        (lambda c: c.send_message("hi", conversation=_THREAD), "reply_in_conversation"),
        (lambda c: c.send_typing(_THREAD), "typing"),
        (lambda c: c.mark_read(_THREAD), "mark_read"),
        (lambda c: c.list_conversations(unread=True), "filter_unread"),
        (lambda c: c.list_conversations(keywords="acme"), "filter_keywords"),
        (lambda c: list(c.iter_conversations(unread=True)), "filter_unread"),
        (lambda c: c.ex_send_group("hi"), "ex_send_group"),
    ],
)
def test_unsupported_operation_before_any_request(few, call: Any, capability: str) -> None:
    client, seen = few
    with pytest.raises(UnsupportedOperation) as info:
        call(client)
    assert (info.value.provider, info.value.capability) == ("few", capability)
    assert "'few'" in str(info.value) and capability in str(info.value)
    assert seen == []


def test_supported_operations_do_reach_the_vendor(few) -> None:
    client, seen = few
    client.list_conversations()
    client.list_messages(_THREAD)
    assert [r.url.path for r in seen] == ["/conversations", "/messages"]


async def test_async_unsupported_operation_before_any_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async with linkmsg.AsyncClient("few", http_transport=httpx.MockTransport(handler)) as aclient:
        with pytest.raises(UnsupportedOperation, match="send_to_profile"):
            await aclient.send_message("hi", to="jane-doe-42")
        with pytest.raises(UnsupportedOperation, match="filter_unread"):
            [c async for c in aclient.iter_conversations(unread=True)]
    assert seen == []


def test_capabilities_are_visible(client: linkmsg.Client) -> None:
    assert Capability.SEND_TO_PROFILE in client.capabilities
    assert linkmsg.Client("few").capabilities == Few.capabilities


# ------------------------------------------------------------------ paging safety


def test_duplicates_across_pages_are_yielded_once() -> None:
    client = linkmsg.Client("scripted", script="overlap")
    assert [c.id for c in client.iter_conversations()] == [f"conv-{k}" for k in "abcdef"]
    assert [m.id for m in client.iter_messages(_THREAD)] == [f"msg-{k}" for k in "abcdef"]
    # A single page is returned as the vendor sent it.
    assert len(client.list_conversations(cursor=client.list_conversations().next_cursor)) == 3


async def test_async_duplicates_across_pages_are_yielded_once() -> None:
    async with linkmsg.AsyncClient("scripted", script="overlap") as aclient:
        assert [c.id async for c in aclient.iter_conversations()] == [f"conv-{k}" for k in "abcdef"]


@pytest.mark.parametrize("listing", ["conversations", "messages"])
def test_a_repeated_cursor_stops_with_pagination_error(listing: str) -> None:
    client = linkmsg.Client("scripted", script="same-cursor")
    items = client.iter_conversations() if listing == "conversations" else client.iter_messages(_THREAD)
    got = []
    with pytest.raises(PaginationError, match="already returned") as info:
        for item in items:
            got.append(item.id)
    # Each new item is delivered once before the loop is detected: nothing lost, nothing twice.
    assert len(got) == len(set(got)) == 2
    assert isinstance(info.value, LinkmsgError) and info.value.provider == "scripted"
    assert client.provider.calls == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("listing", ["conversations", "messages"])
def test_pages_that_never_advance_stop_with_pagination_error(listing: str) -> None:
    client = linkmsg.Client("scripted", script="stuck")
    items = client.iter_conversations() if listing == "conversations" else client.iter_messages(_THREAD)
    got = []
    with pytest.raises(PaginationError, match="does not advance"):
        for item in items:
            got.append(item.id)
    assert got == ([f"conv-{k}" for k in "ab"] if listing == "conversations" else [f"msg-{k}" for k in "ab"])
    assert client.provider.calls <= 5  # type: ignore[attr-defined]


async def test_async_pagination_errors() -> None:
    for script, match in (("same-cursor", "already returned"), ("stuck", "does not advance")):
        async with linkmsg.AsyncClient("scripted", script=script) as aclient:
            with pytest.raises(PaginationError, match=match):
                [c async for c in aclient.iter_conversations()]


# ------------------------------------------------------------------ bad arguments


@pytest.mark.parametrize("limit", [0, -1, True, "5", 2.5])
def test_bad_limit(client: linkmsg.Client, limit: Any) -> None:
    with pytest.raises(InvalidArgument, match="limit"):
        client.list_conversations(limit=limit)
    with pytest.raises(InvalidArgument, match="limit"):
        client.list_messages(_THREAD, limit=limit)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.list_conversations(keywords=5), "keywords"),
        (lambda c: c.list_conversations(folder="archive"), "folder"),
        (lambda c: c.list_messages(42), "conversation"),
        (lambda c: list(c.iter_messages(None)), "conversation"),
        (lambda c: c.send_message("", conversation=_THREAD), "text"),
        (lambda c: c.send_message("   \n", conversation=_THREAD), "text"),
        (lambda c: c.send_message(None, conversation=_THREAD), "text"),
        (lambda c: c.send_message("hi"), "to="),
        (lambda c: c.send_message("hi", to=42), "to"),
        (lambda c: c.send_message("hi", to=Participant(name="No Ids")), "Participant"),
    ],
)
def test_bad_arguments(client: linkmsg.Client, call: Any, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match) as info:
        call(client)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", ["not-a-thread", "urn:li:msg_conversation:(oops)", "https://example.com/x"])
def test_malformed_ids_are_invalid_identifiers(client: linkmsg.Client, bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        client.list_messages(bad)
    with pytest.raises(InvalidIdentifier):
        client.send_message("hi", conversation=bad)


def test_malformed_profile(client: linkmsg.Client) -> None:
    with pytest.raises(InvalidIdentifier):
        client.send_message("hi", to="https://example.com/in/jane")


# ------------------------------------------------------------------ Inbox.build for users' own tests


ME = Participant(id="urn:li:fsd_profile:ACoAAMe0001", urn="urn:li:fsd_profile:ACoAAMe0001", name="Me", is_self=True)
ALICE = Participant(name="Alice Martin", public_id="alice-martin")
BOB = Participant(name="Bob Stone", public_id="bob-stone")
CAROL = Participant(name="Carol Díaz", public_id="carol-diaz")


def test_inbox_build_for_your_own_tests() -> None:
    paris = timezone(timedelta(hours=2))
    inbox = Inbox.build(
        owner=ME,
        threads=[
            ([ALICE], [("Hi!", datetime(2026, 5, 4, 9, 0, tzinfo=paris), False), ("Hello 👋", _T0, True)]),
            ([BOB, CAROL], [("Group kickoff", _T0 - timedelta(days=1), False)]),
        ],
    )
    client = linkmsg.Client("memory", inbox=inbox)
    first, second = client.list_conversations().items
    assert first.participants == (ALICE,) and second.participants == (BOB, CAROL)

    newest_first = list(client.iter_messages(first))
    assert [m.text for m in newest_first] == ["Hi!", "Hello 👋"]
    hi = newest_first[0]
    assert hi.sent_at == datetime(2026, 5, 4, 7, 0, tzinfo=UTC) and _aware_utc(hi.sent_at)
    assert (hi.sender, hi.outgoing) == (ALICE, False)
    assert (newest_first[1].sender, newest_first[1].outgoing) == (ME, True)
    assert parse_conversation_id(first.id).thread_id == first.thread_id

    # What your code sends lands in the inbox you hold, ready to assert on.
    client.send_message("Thanks!", conversation=first)
    assert inbox.messages[first.id][0].text == "Thanks!"
    assert linkmsg.Client("memory", inbox=inbox).list_messages(first, limit=1).items[0].text == "Thanks!"


def test_inbox_build_accepts_one_participant_and_an_owner_without_urn() -> None:
    me = Participant(name="Me", is_self=True)
    inbox = Inbox.build(owner=me, threads=[(ALICE, [("hi", _T0, False)])])
    client = linkmsg.Client("memory", inbox=inbox)
    conv = client.list_conversations().items[0]
    assert conv.participants == (ALICE,)
    result = client.send_message("hello", conversation=conv)
    assert client.list_messages(conv, limit=1).items[0].id == result.message_id
    assert client.send_message("hey", to="bob-stone").conversation_id != conv.id


async def test_inbox_build_with_the_async_client() -> None:
    inbox = Inbox.build(owner=ME, threads=[([ALICE], [("hi", _T0, False)])])
    async with linkmsg.AsyncClient("memory", inbox=inbox) as aclient:
        conv = (await aclient.list_conversations()).items[0]
        await aclient.send_message("from async", conversation=conv)
    assert inbox.messages[conv.id][0].text == "from async"


# ------------------------------------------------------------------ the demo inbox


@pytest.fixture(scope="module")
def demo() -> tuple[list[Conversation], dict[str, list[Message]]]:
    client = linkmsg.Client("memory")
    conversations = list(client.iter_conversations())
    return conversations, {c.id: list(client.iter_messages(c)) for c in conversations}


def test_demo_inbox_is_big_and_varied(demo) -> None:
    conversations, messages = demo
    everything = [m for history in messages.values() for m in history]
    assert len(conversations) >= 25
    assert len(everything) >= 500
    assert any(len(c.participants) > 1 for c in conversations), "group threads"
    assert sum(1 for c in conversations if c.unread_count) >= 3, "unread threads"
    assert any(not p.name.isascii() for c in conversations for p in c.participants if p.name), "unicode names"
    assert any(any(ord(ch) >= 0x1F300 for ch in m.text) for m in everything), "emoji"
    assert any(m.attachments for m in everything), "attachments"
    assert any(m.reactions for m in everything), "reactions"
    assert any(m.kind == MessageKind.INMAIL for m in everything), "InMail"
    assert any(m.outgoing for m in everything) and any(m.outgoing is False for m in everything)


def test_demo_inbox_uses_real_id_formats(demo) -> None:
    conversations, messages = demo
    for conv in conversations:
        assert THREAD_ID.fullmatch(conv.thread_id or "")
        ref = parse_conversation_id(conv.id)
        assert ref.thread_id == conv.thread_id and PROFILE_URN.fullmatch(ref.mailbox_urn or "")
        assert conv.id == ref.urn
        for person in conv.participants:
            assert PROFILE_URN.fullmatch(person.urn or "") and person.id == person.urn
        for message in messages[conv.id]:
            assert message.id.startswith("urn:li:msg_message:(urn:li:fsd_profile:ACoAA")
            assert parse_conversation_id(message.id).thread_id == conv.thread_id


def test_demo_inbox_timestamps_are_aware_utc(demo) -> None:
    conversations, messages = demo
    for conv in conversations:
        assert _aware_utc(conv.last_activity_at)
        assert conv.latest_message is not None and _aware_utc(conv.latest_message.sent_at)
        assert all(_aware_utc(m.sent_at) for m in messages[conv.id])


def test_demo_inbox_is_the_same_every_time(demo) -> None:
    conversations, _ = demo
    assert list(linkmsg.Client().iter_conversations()) == conversations


def test_first_call_works_from_a_bare_python(tmp_path: Path) -> None:
    code = "import linkmsg; print(linkmsg.Client().list_conversations().items[0])"
    done = run(sys.executable, "-c", code, cwd=tmp_path, XDG_CONFIG_HOME=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Conversation(id='urn:li:msg_conversation:(urn:li:fsd_profile:ACoAA")
    assert done.stderr == ""


def test_an_emulated_keyword_filter_reads_past_pages_with_no_match() -> None:
    # Only the oldest conversation matches: every page before it is empty after
    # filtering, which must not be mistaken for a vendor cursor that never advances.
    inbox = demo_inbox(seed=3, conversations=12, messages_per_conversation=2)
    oldest = inbox.sorted_conversations()[-1]
    word = oldest.participants[0].name or ""
    client = linkmsg.Client("emulated-keywords", inbox=inbox)
    found = list(client.iter_conversations(keywords=word, page_size=1))
    assert [c.id for c in found] == [c.id for c in inbox.sorted_conversations() if _mentions(c, word)]
    assert oldest.id in [c.id for c in found]
    first = client.list_conversations(keywords=word, limit=1)
    assert all(_mentions(c, word) for c in first.items) and first.next_cursor is not None
