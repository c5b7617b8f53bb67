"""Round trips through the emulator for ConnectSafely's quirks, beyond the conformance kit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from linkmsg_connectsafely.emulator import DEFAULT_ACCOUNT_ID, ConnectSafelyEmulator

import linkmsg
from linkmsg.errors import AuthenticationError, InvalidArgument, NotFoundError, PaginationError, ProviderError
from linkmsg.memory import Inbox, demo_inbox
from linkmsg.model import Participant

KEY = "test-key-emulator"
OWNER = Participant(id="urn:li:fsd_profile:ACoAAOwner1", urn="urn:li:fsd_profile:ACoAAOwner1", name="Owner")
ALICE = Participant(
    id="urn:li:fsd_profile:ACoAAAlice1", urn="urn:li:fsd_profile:ACoAAAlice1", public_id="alice-a", name="Alice"
)


def connect(emulator: Callable[[httpx.Request], httpx.Response], **settings: object) -> linkmsg.Client:
    settings.setdefault("api_key", KEY)
    return linkmsg.Client(
        "connectsafely", base_url="https://cs.invalid", http_transport=httpx.MockTransport(emulator), **settings
    )


@pytest.fixture
def inbox() -> Inbox:
    return demo_inbox(seed=3, conversations=12, messages_per_conversation=15)


@pytest.fixture
def client(inbox: Inbox) -> Iterator[linkmsg.Client]:
    with connect(ConnectSafelyEmulator(inbox, api_key=KEY)) as c:
        yield c


def crowded_inbox() -> Inbox:
    """Seven messages in one millisecond, between older and newer ones."""
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    same = start - timedelta(minutes=5)
    messages = [(f"m{n}", start - timedelta(minutes=n), n % 2 == 0) for n in range(4)]
    messages += [(f"same{n}", same, n % 2 == 1) for n in range(7)]
    messages += [(f"old{n}", same - timedelta(hours=n + 1), False) for n in range(4)]
    return Inbox.build(owner=OWNER, threads=[([ALICE], messages)])


@pytest.mark.parametrize("history_shape", ["messaging", "redirect", "legacy"])
@pytest.mark.parametrize("page_size", [1, 2, 3, 7])
def test_many_messages_in_one_millisecond_come_back_once(history_shape: str, page_size: int) -> None:
    inbox = crowded_inbox()
    (conversation,) = inbox.conversations
    with connect(ConnectSafelyEmulator(inbox, api_key=KEY, history_shape=history_shape)) as c:
        got = list(c.iter_messages(conversation.id, page_size=page_size))
    assert sorted(m.id for m in got) == sorted(m.id for m in inbox.messages[conversation.id])
    assert len(got) == 15


def test_unread_filter_and_server_side_keywords(client: linkmsg.Client, inbox: Inbox) -> None:
    unread = [c.id for c in client.iter_conversations(unread=True, page_size=2)]
    assert unread == [c.id for c in inbox.sorted_conversations() if c.unread_count]
    # recent-messages searches every message: a word from an old message finds its thread
    conversation = inbox.sorted_conversations()[5]
    oldest_text = inbox.messages[conversation.id][-1].text
    found = [c.id for c in client.iter_conversations(keywords=oldest_text)]
    assert conversation.id in found


def test_redirected_listing_filters_on_what_it_shows(inbox: Inbox) -> None:
    emulator = ConnectSafelyEmulator(inbox, api_key=KEY, list_shape="redirect")
    with connect(emulator) as c:
        unread = [conv.id for conv in c.iter_conversations(unread=True, page_size=3)]
        name = inbox.sorted_conversations()[7].participants[0].name
        assert name is not None
        by_name = [conv.id for conv in c.iter_conversations(keywords=name.split()[0], page_size=2)]
    assert unread == [conv.id for conv in inbox.sorted_conversations() if conv.unread_count]
    assert inbox.sorted_conversations()[7].id in by_name
    assert any(r.url.path == "/linkedin/conversations" for r in emulator.requests)


def test_send_then_read_it_back(client: linkmsg.Client, inbox: Inbox) -> None:
    conversation = next(c for c in client.iter_conversations() if len(c.participants) == 1)
    person = conversation.participants[0]
    result = client.send_message("Hello from linkmsg 👋", to=person)
    assert result.message_id is None and result.conversation_id is None
    newest = client.list_messages(conversation, limit=1).items[0]
    assert (newest.text, newest.outgoing, newest.sender.urn) == ("Hello from linkmsg 👋", True, inbox.owner.urn)


def test_reply_into_a_group_uses_the_conversation_reply(inbox: Inbox) -> None:
    emulator = ConnectSafelyEmulator(inbox, api_key=KEY)
    with connect(emulator) as c:
        group = next(conv for conv in c.iter_conversations() if len(conv.participants) > 1)
        result = c.send_message("Hello all", conversation=group)
        history = c.list_messages(group, limit=1).items
    assert result.conversation_id == group.id
    paths = [r.url.path for r in emulator.requests if r.method == "POST"]
    assert paths == ["/linkedin/messaging/typing-indicator", "/linkedin/conversations/send"]
    assert history[0].text == "Hello all"


def test_reply_by_bare_thread_id_reads_the_conversation_first(inbox: Inbox) -> None:
    emulator = ConnectSafelyEmulator(inbox, api_key=KEY)
    one_to_one = next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)
    with connect(emulator) as c:
        assert c.provider.mailbox_urn is None
        result = c.send_message("Quick one", conversation=one_to_one.thread_id)
        assert c.provider.mailbox_urn == inbox.owner.urn
    assert result.conversation_id == one_to_one.id
    assert [r.url.path for r in emulator.requests] == [
        "/linkedin/messaging/conversation-details",
        "/linkedin/messaging/send-with-typing",
    ]
    assert inbox.messages[one_to_one.id][0].text == "Quick one"


def test_typing_mark_read_and_inmail(client: linkmsg.Client, inbox: Inbox) -> None:
    conversation = next(c for c in client.iter_conversations(unread=True))
    client.send_typing(conversation)
    client.mark_read(conversation)
    assert next(c for c in client.iter_conversations() if c.id == conversation.id).unread_count == 0
    client.send_message("Hello", to="new-person-1", inmail=True, subject="Hi there")
    with pytest.raises(ProviderError, match="subject is required for InMail"):
        client.send_message("Hello", to="new-person-2", inmail=True)


def test_group_sends_need_a_urn_before_any_request(inbox: Inbox) -> None:
    emulator = ConnectSafelyEmulator(inbox, api_key=KEY)
    with connect(emulator) as c:
        with pytest.raises(InvalidArgument, match="profile URN"):
            c.ex_send_group("https://www.linkedin.com/in/john-doe-123", "123", "Hi")
        assert emulator.requests == []
        person = inbox.sorted_conversations()[0].participants[0]
        c.ex_send_group(person, "123", "Hi from the group")
        c.ex_send_with_ack("Thanks", person, message_urns=[inbox.messages[inbox.sorted_conversations()[0].id][0]])
    assert [r.url.path for r in emulator.requests] == [
        "/linkedin/messaging/send-group-with-typing",
        "/linkedin/messaging/send-with-ack",
    ]


def test_account_selection_and_credentials(inbox: Inbox) -> None:
    emulator = ConnectSafelyEmulator(inbox, api_key=KEY)
    with connect(emulator, account_id=DEFAULT_ACCOUNT_ID) as c:
        assert len(c.list_conversations(limit=3).items) == 3
    assert emulator.requests[-1].url.params["accountId"] == DEFAULT_ACCOUNT_ID
    with connect(emulator, account_id="0" * 24) as c, pytest.raises(NotFoundError, match="account_id"):
        c.list_conversations()
    with connect(emulator, api_key="wrong-key-1234") as c, pytest.raises(AuthenticationError):
        c.list_conversations()


async def test_async_client_sends_and_reads(inbox: Inbox) -> None:
    emulator = ConnectSafelyEmulator(inbox, api_key=KEY)
    async with linkmsg.AsyncClient(
        "connectsafely", api_key=KEY, base_url="https://cs.invalid", http_transport=httpx.MockTransport(emulator)
    ) as c:
        first = (await c.list_conversations(limit=1)).items[0]
        await c.send_message("async hello", conversation=first, typing=False)
        newest = (await c.list_messages(first, limit=1)).items[0]
    assert newest.text == "async hello"


def test_an_anchor_the_vendor_ignores_raises_instead_of_ending(inbox: Inbox) -> None:
    """A vendor serving the first page again for every anchor: no silent truncation."""
    emulator = ConnectSafelyEmulator(inbox, api_key=KEY)
    first: list[httpx.Response] = []

    def frozen(request: httpx.Request) -> httpx.Response:
        if "conversation-details" not in request.url.path:
            return emulator(request)
        if not first:
            first.append(emulator(request))
        return httpx.Response(200, content=first[0].read(), headers={"content-type": "application/json"})

    conversation = inbox.sorted_conversations()[0]
    with connect(frozen) as c, pytest.raises(PaginationError, match="does not advance"):
        list(c.iter_messages(conversation.id, page_size=5))
