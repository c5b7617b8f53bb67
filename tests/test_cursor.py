"""Cursors are plain strings a user can store and pass back later; anything else is refused."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import zlib
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linkmsg
from linkmsg import cursor as _cursor
from linkmsg.errors import InvalidCursor, LinkmsgError
from linkmsg.memory import MemoryProvider
from tests.fakes import isolate, run, use_providers


class OtherMemory(MemoryProvider):
    """A second provider serving the same inbox: only the provider name differs."""

    name: ClassVar[str] = "other-memory"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    isolate(monkeypatch, tmp_path)
    use_providers(monkeypatch, OtherMemory)


@pytest.fixture
def client() -> linkmsg.Client:
    return linkmsg.Client("memory")


def _conversation_ids(client: linkmsg.Client) -> list[str]:
    return [c.id for c in client.iter_conversations()]


# ------------------------------------------------------------------ round trips


def test_cursor_is_a_plain_string_that_resumes_in_a_new_client(client: linkmsg.Client) -> None:
    everything = _conversation_ids(client)
    first = client.list_conversations(limit=7)
    assert isinstance(first.next_cursor, str)
    stored = str(first.next_cursor)  # e.g. written to a database column

    later = linkmsg.Client("memory")  # another client, nothing shared with the first
    second = later.list_conversations(limit=7, cursor=stored)
    assert [c.id for c in first.items + second.items] == everything[:14]


def test_cursor_survives_a_json_round_trip_and_another_process(client: linkmsg.Client, tmp_path) -> None:
    page = client.list_conversations(limit=5)
    saved = tmp_path / "state.json"
    saved.write_text(json.dumps({"cursor": page.next_cursor}))
    expected = [c.id for c in client.list_conversations(limit=5, cursor=page.next_cursor).items]

    script = (
        "import json, sys, linkmsg\n"
        "cursor = json.load(open(sys.argv[1]))['cursor']\n"
        "page = linkmsg.Client('memory').list_conversations(limit=5, cursor=cursor)\n"
        "print(json.dumps([c.id for c in page.items]))\n"
    )
    done = run(sys.executable, "-c", script, str(saved))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


def test_cursor_holds_no_clock_or_randomness(client: linkmsg.Client) -> None:
    # Resuming days later is just passing the string: the same position always
    # gives the same cursor, and nothing in it expires.
    again = linkmsg.Client("memory")
    assert client.list_conversations(limit=4).next_cursor == again.list_conversations(limit=4).next_cursor
    body = json.loads(base64.urlsafe_b64decode(_pad(client.list_conversations(limit=4).next_cursor))[4:])
    assert set(body) == {"p", "l", "d", "v"}


def test_following_cursors_reaches_every_item_once_and_then_stops(client: linkmsg.Client) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = client.list_conversations(limit=8, cursor=cursor)
        seen += [c.id for c in page.items]
        pages += 1
        if page.next_cursor is None:
            assert page.has_more is False
            break
        assert page.has_more is True
        cursor = page.next_cursor
    assert pages == 4
    assert seen == _conversation_ids(client)


def test_page_size_may_change_between_pages(client: linkmsg.Client) -> None:
    everything = _conversation_ids(client)
    first = client.list_conversations(limit=3)
    second = client.list_conversations(limit=10, cursor=first.next_cursor)
    assert [c.id for c in first.items + second.items] == everything[:13]


def test_message_cursor_accepts_any_spelling_of_the_same_conversation(client: linkmsg.Client) -> None:
    conv = client.list_conversations(limit=1).items[0]
    page = client.list_messages(conv, limit=5)
    expected = [m.id for m in client.list_messages(conv, limit=5, cursor=page.next_cursor).items]
    for spelling in (conv.id, conv.thread_id):
        assert [m.id for m in client.list_messages(spelling, limit=5, cursor=page.next_cursor).items] == expected


async def test_cursor_from_the_sync_client_works_in_the_async_client(client: linkmsg.Client) -> None:
    page = client.list_conversations(limit=6)
    expected = client.list_conversations(limit=6, cursor=page.next_cursor)
    async with linkmsg.AsyncClient("memory") as aclient:
        resumed = await aclient.list_conversations(limit=6, cursor=page.next_cursor)
    assert resumed.items == expected.items


# ------------------------------------------------------------------ invalid cursors


def _pad(token: str | None) -> str:
    assert token is not None
    payload = token[len("lm1.") :]
    return payload + "=" * (-len(payload) % 4)


@pytest.fixture
def token(client: linkmsg.Client) -> str:
    cursor = client.list_conversations(limit=5).next_cursor
    assert cursor is not None
    return cursor


def test_every_single_corrupted_character_is_detected(client: linkmsg.Client, token: str) -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # The last character can carry unused padding bits; every other one matters.
    for i in range(len("lm1."), len(token) - 1):
        replacement = alphabet[(alphabet.index(token[i]) + 1) % len(alphabet)]
        corrupted = token[:i] + replacement + token[i + 1 :]
        with pytest.raises(InvalidCursor):
            client.list_conversations(limit=5, cursor=corrupted)


def test_a_flipped_byte_is_reported_as_corrupted(client: linkmsg.Client, token: str) -> None:
    blob = bytearray(base64.urlsafe_b64decode(_pad(token)))
    blob[10] ^= 0x01
    corrupted = "lm1." + base64.urlsafe_b64encode(bytes(blob)).rstrip(b"=").decode()
    with pytest.raises(InvalidCursor, match="corrupted"):
        client.list_conversations(limit=5, cursor=corrupted)


@pytest.mark.parametrize("keep", [1, 2, 3, 5, 10, 0.5])
def test_truncated_cursor(client: linkmsg.Client, token: str, keep: float) -> None:
    cut = int(len(token) * keep) if isinstance(keep, float) else len(token) - keep
    with pytest.raises(InvalidCursor):
        client.list_conversations(limit=5, cursor=token[:cut])


@pytest.mark.parametrize(
    "bogus",
    ["", "5", "lm1.", "lm1.!!!!", "lm2.abc", "next-page-token", "eyJwIjoibWVtb3J5In0", " lm1.abc", 5, b"lm1.x"],
)
def test_not_a_cursor(client: linkmsg.Client, bogus: object) -> None:
    with pytest.raises(InvalidCursor) as info:
        client.list_conversations(cursor=bogus)  # type: ignore[arg-type]
    assert isinstance(info.value, LinkmsgError) and isinstance(info.value, ValueError)


def test_well_formed_token_that_is_not_a_linkmsg_cursor(client: linkmsg.Client) -> None:
    for body in (b"[1,2,3]", b'{"p":"memory"}', b'"hello"', b"\xff\xfe"):
        token = "lm1." + base64.urlsafe_b64encode(zlib.crc32(body).to_bytes(4, "big") + body).decode().rstrip("=")
        with pytest.raises(InvalidCursor):
            client.list_conversations(cursor=token)


def test_another_providers_cursor(client: linkmsg.Client) -> None:
    theirs = linkmsg.Client("other-memory").list_conversations(limit=5).next_cursor
    with pytest.raises(InvalidCursor, match="other-memory"):
        client.list_conversations(limit=5, cursor=theirs)
    # and the other way round
    mine = client.list_conversations(limit=5).next_cursor
    with pytest.raises(InvalidCursor, match="'memory'"):
        linkmsg.Client("other-memory").list_conversations(limit=5, cursor=mine)


def test_conversation_cursor_is_refused_by_a_message_listing_and_back(client: linkmsg.Client, token: str) -> None:
    conv = client.list_conversations(limit=1).items[0]
    with pytest.raises(InvalidCursor, match="another listing"):
        client.list_messages(conv, cursor=token)
    message_cursor = client.list_messages(conv, limit=3).next_cursor
    with pytest.raises(InvalidCursor, match="another listing"):
        client.list_conversations(cursor=message_cursor)


def test_another_conversations_history_cursor(client: linkmsg.Client) -> None:
    first, second = client.list_conversations(limit=2).items
    cursor = client.list_messages(first, limit=3).next_cursor
    with pytest.raises(InvalidCursor):
        client.list_messages(second, limit=3, cursor=cursor)


@pytest.mark.parametrize(
    ("made_with", "used_with"),
    [
        ({"unread": True}, {}),
        ({}, {"unread": True}),
        ({"keywords": "a"}, {}),
        ({"keywords": "a"}, {"keywords": "e"}),
        ({"keywords": "a"}, {"keywords": "a", "unread": True}),
    ],
)
def test_cursor_from_other_filters(client: linkmsg.Client, made_with: dict, used_with: dict) -> None:
    cursor = client.list_conversations(limit=1, **made_with).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        client.list_conversations(limit=1, cursor=cursor, **used_with)


def test_unread_false_means_no_filter(client: linkmsg.Client) -> None:
    # unread=False and unread=None list the same thing, so their cursors are interchangeable.
    cursor = client.list_conversations(limit=3, unread=False).next_cursor
    assert client.list_conversations(limit=3, cursor=cursor).items


def test_error_messages_say_what_to_do(client: linkmsg.Client, token: str) -> None:
    with pytest.raises(InvalidCursor, match="next_cursor"):
        client.list_conversations(cursor="page-2")
    with pytest.raises(InvalidCursor, match="same conversation and filters"):
        client.list_conversations(cursor=token, unread=True)


# ------------------------------------------------------------------ iterators follow position keys

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(a=_json, b=_json)
def test_a_position_key_is_equal_exactly_when_the_cursor_is(a: object, b: object) -> None:
    filters = {"conversation": "2-abc"}
    cursors = _cursor.encode("memory", "messages", filters, a), _cursor.encode("memory", "messages", filters, b)
    assert (cursors[0] == cursors[1]) == (_cursor.position_key(a) == _cursor.position_key(b))
    decoded = _cursor.decode(cursors[0], provider="memory", listing="messages", filters=filters)
    assert _cursor.position_from_key(_cursor.position_key(a)) == decoded


def test_iterators_yield_what_following_the_cursors_does(client: linkmsg.Client) -> None:
    conversation = client.list_conversations(limit=1).items[0]
    followed, cursor = [], None
    while True:
        page = client.list_messages(conversation, limit=2, cursor=cursor)
        followed.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert list(client.iter_messages(conversation, page_size=2)) == followed
    assert asyncio.run(_async_messages(conversation.id)) == followed
    assert [c.id for c in client.iter_conversations(page_size=1)] == _conversation_ids(client)


async def _async_messages(conversation_id: str) -> list[linkmsg.Message]:
    async with linkmsg.AsyncClient("memory") as client:
        return [m async for m in client.iter_messages(conversation_id, page_size=2)]
