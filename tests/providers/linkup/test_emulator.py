"""Round trips through the LinkupAPI v1 emulator, beyond the conformance kit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linkmsg_linkup.emulator import LinkupEmulator

import linkmsg
from linkmsg.errors import AuthenticationError, InvalidArgument, PermissionDeniedError, UnsupportedOperation
from linkmsg.identity import profile_urn
from linkmsg.memory import Inbox, demo_inbox
from linkmsg.model import Participant

API_KEY = "emulator-key"
LOGIN_TOKEN = "AQEDAT-emulator-token"
BASE = "https://api.linkupapi.com"
OWNER = Participant(
    id=profile_urn("ACoAAOwnerOwnerOwnerOwnerOwnerOwnerOwnr"),
    urn=profile_urn("ACoAAOwnerOwnerOwnerOwnerOwnerOwnerOwnr"),
    name="Owner Person",
    first_name="Owner",
    last_name="Person",
    profile_url="https://www.linkedin.com/in/ACoAAOwnerOwnerOwnerOwnerOwnerOwnerOwnr",
    is_self=True,
)
ALICE = Participant(
    id=profile_urn("ACoAAAliceAliceAliceAliceAliceAliceAlce"),
    urn=profile_urn("ACoAAAliceAliceAliceAliceAliceAliceAlce"),
    name="Alice Martin",
    first_name="Alice",
    last_name="Martin",
    profile_url="https://www.linkedin.com/in/ACoAAAliceAliceAliceAliceAliceAliceAlce",
    is_self=False,
)
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def client_for(emulator: Callable[[httpx.Request], httpx.Response], **settings: Any) -> linkmsg.Client:
    return linkmsg.Client(
        "linkup",
        api_key=API_KEY,
        login_token=LOGIN_TOKEN,
        base_url=BASE,
        http_transport=httpx.MockTransport(emulator),
        **settings,
    )


@pytest.fixture
def inbox() -> Inbox:
    return demo_inbox(seed=5, conversations=6, messages_per_conversation=23)


@pytest.fixture
def emulator(inbox: Inbox) -> LinkupEmulator:
    return LinkupEmulator(inbox, api_key=API_KEY, login_token=LOGIN_TOKEN)


@pytest.fixture
def client(emulator: LinkupEmulator) -> Iterator[linkmsg.Client]:
    with client_for(emulator) as c:
        yield c


# ---------------------------------------------------------------- same millisecond


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=30),
    page_size=st.integers(min_value=1, max_value=12),
)
def test_messages_sharing_a_millisecond_come_out_once(offsets: list[int], page_size: int) -> None:
    # Few distinct milliseconds: many messages share one, wherever the page boundaries fall.
    messages = [(f"m{n}", START - timedelta(milliseconds=off), n % 2 == 0) for n, off in enumerate(offsets)]
    inbox = Inbox.build(OWNER, [((ALICE,), messages)])
    emulator = LinkupEmulator(inbox, api_key=API_KEY)
    conversation = inbox.conversations[0]
    with client_for(emulator) as client:
        got = list(client.iter_messages(conversation.id, page_size=page_size))
    assert [m.id for m in got] == [m.id for m in inbox.messages[conversation.id]]
    assert [m.sent_at for m in got] == [m.sent_at for m in inbox.messages[conversation.id]]


def test_boundary_pages_ask_for_room_for_repeated_messages(inbox: Inbox, emulator: LinkupEmulator) -> None:
    conversation = inbox.sorted_conversations()[0]
    with client_for(emulator) as client:
        first = client.list_messages(conversation.id, limit=10)
        client.list_messages(conversation.id, limit=10, cursor=first.next_cursor)
    bodies = [json.loads(r.content) for r in emulator.requests]
    # Page 2 is asked from one millisecond past the oldest message of page 1 (demo_inbox:
    # messages 9 and 10 share it), at the same page size: a larger one costs a credit more.
    assert bodies[0]["total_results"] == 10 and "cursor" not in bodies[0]
    assert bodies[1]["total_results"] == 10
    assert int(bodies[1]["cursor"]) == int(first.items[-1].sent_at.timestamp() * 1000) + 1


# ---------------------------------------------------------------- page-number mode


@pytest.mark.parametrize("limit", [3, 10, 20, 25])
def test_page_number_history(inbox: Inbox, limit: int) -> None:
    emulator = LinkupEmulator(inbox, api_key=API_KEY, history_paging="pages")
    conversation = inbox.sorted_conversations()[1]
    pages = []
    cursor = None
    with client_for(emulator) as client:
        while True:
            page = client.list_messages(conversation.id, limit=limit, cursor=cursor)
            pages.append(page)
            assert len(page) <= limit
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    got = [m.id for p in pages for m in p]
    assert got == [m.id for m in inbox.messages[conversation.id]]
    assert sum(p.credits_used or 0 for p in pages) >= 3  # 1 credit per page of 10 fetched


# ---------------------------------------------------------------- inbox filters


def test_unread_and_category_filters(client: linkmsg.Client, inbox: Inbox) -> None:
    unread = list(client.iter_conversations(unread=True, page_size=10))
    assert {c.id for c in unread} == {c.id for c in inbox.conversations if c.unread_count}
    assert all(c.unread_count for c in unread)
    inmail = list(client.iter_conversations(category="InMail"))
    assert [c.id for c in inmail] == [c.id for c in inbox.conversations if c.category == "inmail"]
    assert all(c.category == "inmail" for c in inmail)
    assert list(client.iter_conversations(category="job")) == []


def test_keywords_are_filtered_by_linkmsg(client: linkmsg.Client, inbox: Inbox, emulator: LinkupEmulator) -> None:
    target = inbox.sorted_conversations()[3]
    name = target.participants[0].name
    assert name is not None
    found = list(client.iter_conversations(keywords=name.upper(), page_size=2))
    assert target.id in [c.id for c in found]
    assert all(b'"keywords"' not in r.content for r in emulator.requests)  # never sent to the vendor


def test_credits_add_up(client: linkmsg.Client, inbox: Inbox) -> None:
    conversations = list(client.iter_conversations(page_size=10))  # 6 results: 1 credit
    # Pages of at most 10 results (1 credit each), each after the first repeating the
    # previous page's last message: 10 + 9 + 4 new.
    history = list(client.iter_messages(conversations[0], page_size=10))
    assert len(history) == 23
    client.send_message("hi", to=conversations[0].participants[0], media_url="https://example.com/a.png")
    assert client.credits_used == 1 + 3 + 2


# ---------------------------------------------------------------- sends


def test_send_to_profile_appends_to_the_thread(client: linkmsg.Client, inbox: Inbox) -> None:
    conversation = next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)
    result = client.send_message("Following up 👋", to=conversation.participants[0].profile_url)
    assert result.conversation_id == conversation.id
    assert result.delivered is True and result.credits_used == 1
    newest = client.list_messages(conversation.id, limit=10).items[0]
    assert newest.id == result.message_id and newest.text == "Following up 👋"
    assert newest.sent_at == result.sent_at
    assert client.list_conversations(limit=10).items[0].id == conversation.id  # now the most recent


def test_send_to_a_new_profile_opens_a_thread(client: linkmsg.Client, inbox: Inbox) -> None:
    before = {c.id for c in inbox.conversations}
    result = client.send_message("Nice to meet you", to="https://www.linkedin.com/in/new-person-42")
    assert result.conversation_id is not None and result.conversation_id not in before
    listed = client.list_conversations(limit=10).items[0]
    assert listed.id == result.conversation_id
    assert listed.participants[0].public_id == "new-person-42"
    assert listed.latest_message is not None and listed.latest_message.outgoing is True


def test_legacy_send_answer(inbox: Inbox) -> None:
    emulator = LinkupEmulator(inbox, api_key=API_KEY, send_answer="legacy")
    with client_for(emulator) as client:
        result = client.send_message("hi", to="https://www.linkedin.com/in/someone-else")
    assert (result.message_id, result.conversation_id, result.sent_at) == (None, None, None)
    assert result.credits_used == 1


def test_reply_by_id_reads_the_inbox_first(client: linkmsg.Client, inbox: Inbox, emulator: LinkupEmulator) -> None:
    conversation = next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)
    result = client.send_message("Reply by id", conversation=conversation.id)
    assert [r.url.path for r in emulator.requests] == ["/v1/messages/inbox", "/v1/messages/send-message"]
    assert result.conversation_id == conversation.id
    assert result.credits_used == 2


def _failing_sends(emulator: LinkupEmulator) -> Callable[[httpx.Request], httpx.Response]:
    """The emulator, except that every send answers HTTP 500."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/messages/send-message":
            return httpx.Response(500, json={"status": "error", "message": "internal error"})
        return emulator(request)

    return handler


def test_a_reply_that_fails_after_its_lookup_still_counts_the_lookup(inbox: Inbox, emulator: LinkupEmulator) -> None:
    conversation = next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)
    with client_for(_failing_sends(emulator)) as client, pytest.raises(linkmsg.LinkmsgError) as failed:
        client.send_message("Reply by id", conversation=conversation.id)
    assert failed.value.credits_used == 1  # the inbox page read to find the recipient
    assert client.credits_used == 1


async def test_the_async_client_counts_them_too(inbox: Inbox, emulator: LinkupEmulator) -> None:
    conversation = next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)
    async with linkmsg.AsyncClient(
        "linkup",
        api_key=API_KEY,
        login_token=LOGIN_TOKEN,
        base_url=BASE,
        http_transport=httpx.MockTransport(_failing_sends(emulator)),
    ) as client:
        with pytest.raises(linkmsg.LinkmsgError) as failed:
            await client.send_message("Reply by id", conversation=conversation.id)
        assert failed.value.credits_used == 1 and client.credits_used == 1


def test_a_recipient_not_found_after_reading_the_inbox_counts_the_pages_read(client: linkmsg.Client) -> None:
    missing = "urn:li:msg_conversation:(urn:li:fsd_profile:ACoAAOwnerOwnerOwnerOwnerOwnerOwnerOwnr,2-bm90LWhlcmU=)"
    with pytest.raises(linkmsg.NotFoundError, match="not among") as failed:
        client.send_message("hello?", conversation=missing)
    assert failed.value.credits_used == 1  # one page of 6 conversations
    assert client.credits_used == 1


def test_a_failure_before_anything_was_paid_carries_no_credits(inbox: Inbox) -> None:
    other_key = LinkupEmulator(inbox, api_key="another-key", login_token=LOGIN_TOKEN)
    with client_for(other_key) as client, pytest.raises(AuthenticationError) as failed:
        client.list_conversations()
    assert failed.value.credits_used is None and client.credits_used == 0


def test_reply_with_a_conversation_object_sends_directly(
    client: linkmsg.Client, inbox: Inbox, emulator: LinkupEmulator
) -> None:
    conversation = next(c for c in client.iter_conversations() if c.raw["type"] == "normal")
    emulator.requests.clear()
    result = client.send_message("Reply with object", conversation=conversation)
    assert [r.url.path for r in emulator.requests] == ["/v1/messages/send-message"]
    assert result.conversation_id == conversation.id and result.credits_used == 1


def test_reply_to_a_participant_known_only_by_urn(client: linkmsg.Client, inbox: Inbox) -> None:
    # E.g. a Conversation read through another vendor: no profile URL, only the member URN.
    conversation = next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)
    other = attrs.evolve(conversation.participants[0], profile_url=None, public_id=None)
    result = client.send_message("By URN", conversation=attrs.evolve(conversation, participants=(other,)))
    assert result.conversation_id == conversation.id
    assert inbox.messages[conversation.id][0].text == "By URN"


def test_reply_in_a_group_thread_is_refused(client: linkmsg.Client, inbox: Inbox, emulator: LinkupEmulator) -> None:
    group = next(c for c in inbox.conversations if len(c.participants) > 1)
    listed = next(c for c in client.iter_conversations() if c.id == group.id)
    emulator.requests.clear()
    with pytest.raises(UnsupportedOperation, match="group conversation"):
        client.send_message("Hi all", conversation=listed)
    assert emulator.requests == []
    with pytest.raises(UnsupportedOperation, match="group conversation"):
        client.send_message("Hi all", conversation=group.id)  # found by reading the inbox
    assert all(r.url.path == "/v1/messages/inbox" for r in emulator.requests)


# ---------------------------------------------------------------- addressing and auth


def test_history_by_profile_url(client: linkmsg.Client, inbox: Inbox) -> None:
    conversation = next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)
    # A bare thread id plus the other person: v1 finds the thread by profile.
    bare = linkmsg.model.Conversation(conversation.thread_id or "", conversation.thread_id, conversation.participants)
    got = list(client.iter_messages(bare, page_size=10))
    assert [m.id for m in got] == [m.id for m in inbox.messages[conversation.id]]
    assert {m.conversation_id for m in got} == {conversation.id}


def test_bare_thread_id_works_once_the_mailbox_is_known(client: linkmsg.Client, inbox: Inbox) -> None:
    conversation = inbox.sorted_conversations()[0]
    with pytest.raises(InvalidArgument):
        client.list_messages(conversation.thread_id or "")
    client.list_conversations(limit=10)
    assert client.list_messages(conversation.thread_id or "", limit=10).items[0].conversation_id == conversation.id


def test_wrong_credentials(inbox: Inbox) -> None:
    emulator = LinkupEmulator(inbox, api_key=API_KEY, login_token=LOGIN_TOKEN)
    with (
        linkmsg.Client(
            "linkup",
            api_key="wrong",
            login_token=LOGIN_TOKEN,
            base_url=BASE,
            http_transport=httpx.MockTransport(emulator),
        ) as bad_key,
        pytest.raises(AuthenticationError) as info,
    ):
        bad_key.list_conversations()
    assert not isinstance(info.value, PermissionDeniedError) and "credits" in str(info.value)
    with (
        linkmsg.Client(
            "linkup",
            api_key=API_KEY,
            login_token="expired",
            base_url=BASE,
            http_transport=httpx.MockTransport(emulator),
        ) as expired,
        pytest.raises(PermissionDeniedError, match="login_token"),
    ):
        expired.list_conversations()


def test_over_real_http(inbox: Inbox, emulator: LinkupEmulator) -> None:
    server_module = pytest.importorskip("linkmsg.testing.server")
    with (
        server_module.FakeVendorServer(emulator) as server,
        linkmsg.Client("linkup", api_key=API_KEY, login_token=LOGIN_TOKEN, base_url=server.url) as client,
    ):
        conversations = list(client.iter_conversations(page_size=2))
        assert [c.id for c in conversations] == [c.id for c in inbox.sorted_conversations()]
        for conversation in conversations:
            got = list(client.iter_messages(conversation, page_size=10))
            assert [(m.id, m.text, m.sent_at) for m in got] == [
                (m.id, m.text, m.sent_at) for m in inbox.messages[conversation.id]
            ]
        result = client.send_message("over the wire", to=conversations[0].participants[0])
        assert result.message_id is not None
        assert client.credits_used > 0
