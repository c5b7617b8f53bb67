"""Histories replayed from cassettes of the documented shapes (vendors.md §2.4, seed page)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import linkmsg
from linkmsg.model import Attachment, Reaction
from tests.support.cassettes import cassette

BASE_URL = "https://api.connectsafely.ai"
SEED_OWNER = "urn:li:fsd_profile:ACoAABpGQcMBI08myTal7qDJ5zb9lJiM24nFjJI"
SEED_THREAD = "2-YTlkMzliMTAtMjA4Zi00ODc4LTgxZDgtZTI4ZDY0Zjg1YTE4XzEwMA=="
SEED_CONV = f"urn:li:msg_conversation:({SEED_OWNER},{SEED_THREAD})"
LEONARD = "urn:li:fsd_profile:ACoAACr-hewBS7g6tYN16g77Gx5Cuvm0hJPUfNM"
# The seed page's newest message, as documented.
M1 = (
    f"urn:li:msg_message:({SEED_OWNER},"
    "2-MTc2Mzc5NDI5NTI1N2IxNzUzMS0xMDAmYTlkMzliMTAtMjA4Zi00ODc4LTgxZDgtZTI4ZDY0Zjg1YTE4XzEwMA==)"
)


def client(**settings: object) -> linkmsg.Client:
    return linkmsg.Client(provider="connectsafely", api_key="test-key-history", base_url=BASE_URL, **settings)


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def test_messaging_shape_pages_back_with_the_delivered_at_anchor() -> None:
    with cassette("connectsafely", "conversation_details_messaging") as tape, client() as c:
        pages = []
        cursor = None
        while True:
            page = c.list_messages(SEED_CONV, limit=3, cursor=cursor)
            pages.append(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert tape.all_played
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    messages = [m for p in pages for m in p]
    assert len({m.id for m in messages}) == 11  # the two sharing 1763360000500 each once
    times = [m.sent_at for m in messages]
    assert times == sorted(times, reverse=True)
    # split across the page boundary: one on page 2, the other on page 3
    assert pages[1][-1].text == "Two messages in one millisecond (1)"
    assert pages[2][0].text == "Two messages in one millisecond (2)"
    newest, second = messages[0], messages[1]
    assert newest.id == M1
    assert newest.conversation_id == SEED_CONV
    assert newest.sent_at == ms(1763794295257)
    assert newest.text.startswith("I just tried that post boost")
    assert newest.sender.urn == LEONARD and newest.sender.name == "Leonard Esere"
    assert newest.sender.profile_url == "https://www.linkedin.com/in/ACoAACr-hewBS7g6tYN16g77Gx5Cuvm0hJPUfNM"
    assert newest.outgoing is False and newest.sender.is_self is False
    assert newest.attachments == (
        Attachment("image", "https://www.linkedin.com/dms/prv/image/v2/D5606AQHX0OcdYQAgkQ/messaging-image-720/..."),
    )
    assert newest.subject is None
    assert second.sender.name == "Karan Kumar" and second.outgoing is True  # sender == profileUrn
    assert second.reactions == (Reaction("👍", 1, False),)
    assert messages[-1].sent_at == ms(1763350991696)


def test_iter_messages_reads_the_whole_history_once() -> None:
    with cassette("connectsafely", "conversation_details_messaging"), client() as c:
        got = list(c.iter_messages(SEED_CONV, page_size=3))
    assert len(got) == len({m.id for m in got}) == 11


@pytest.mark.parametrize(
    "spelling",
    [
        SEED_CONV,
        M1,  # a msg_message URN names its thread and mailbox
        f"urn:li:messagingThread:{SEED_THREAD}",
        SEED_THREAD,
    ],
)
def test_every_documented_conversation_spelling(spelling: str) -> None:
    name = "conversation_details_messaging" if spelling in (SEED_CONV, M1) else "conversation_details_bare_thread"
    with cassette("connectsafely", name), client() as c:
        page = c.list_messages(spelling, limit=3)
        assert c.provider.mailbox_urn == SEED_OWNER
    assert page.items[0].id == M1
    assert {m.conversation_id for m in page.items} == {SEED_CONV}


def test_legacy_crawl_a_shape() -> None:
    owner = "urn:li:fsd_profile:ACoAABcnQx7sLk2V9pTfE1uWbYhRzD4gMo3aJe8"
    with cassette("connectsafely", "conversation_details_legacy"), client() as c:
        conversation = f"urn:li:msg_conversation:({owner},2-M2YyZTFkMGMtOWI4YS00NzY2LTg1NTQtNDMzMjIxMTAwZmVkXzEwMA==)"
        page = c.list_messages(conversation)
    assert page.next_cursor is None
    hello, reply, first = page.items
    assert hello.text == "Hello!" and hello.sent_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert hello.id.startswith(f"urn:li:msg_message:({owner},2-")  # from urn:li:message:…
    assert hello.sender.urn == "urn:li:fsd_profile:ACoAAD1xYz2AbC3dEf4GhI5jKl6MnO7pQr8StU9"
    assert hello.outgoing is False
    assert reply.outgoing is True and reply.sender.is_self is True  # sender URN == the mailbox
    assert first.sent_at == datetime(2024, 1, 15, 10, 10, tzinfo=UTC)
    assert {m.conversation_id for m in page.items} == {conversation}


def test_conversation_messages_endpoint_after_a_redirect() -> None:
    owner = "urn:li:fsd_profile:ACoAAATPlQ0Bc8wdg-Iy8wZgEDuSdIVWJiE1Aio"
    thread = "2-ODFkYjU4M2ItZDlmYS00YTVjLThlNTQtZjI5YTE4ZWUyZDk5XzEwMA=="
    conversation = f"urn:li:msg_conversation:({owner},{thread})"
    with cassette("connectsafely", "conversation_messages_redirect") as tape, client() as c:
        got = list(c.iter_messages(conversation, page_size=2))
        assert tape.all_played  # the 307, then two pages straight from /linkedin/conversations/{urn}/messages
    assert [m.text for m in got] == [
        "Hello! I would like to connect with you.",
        "Happy to connect",
        "Who are you?",
        "We met at the conference",
        "Hi",
    ]
    assert all(m.id.startswith(f"urn:li:msg_message:({owner},2-") for m in got)
    assert [m.outgoing for m in got] == [False, True, False, True, False]  # isSentByOwner
    john = got[0].sender
    assert (john.public_id, john.urn, john.name, john.is_self) == ("john-doe-123", None, "John Doe", False)
    assert got[0].sent_at == ms(1763794295257)
