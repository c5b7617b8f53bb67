"""Conversation listings replayed from cassettes of the documented shapes (vendors.md §2.3)."""

from __future__ import annotations

from datetime import UTC, datetime

import linkmsg
from tests.support.cassettes import cassette

BASE_URL = "https://api.connectsafely.ai"
OWNER = "urn:li:fsd_profile:ACoAAATPlQ0Bc8wdg-Iy8wZgEDuSdIVWJiE1Aio"
T1 = "2-ODFkYjU4M2ItZDlmYS00YTVjLThlNTQtZjI5YTE4ZWUyZDk5XzEwMA=="
T2 = "2-NzkzMDFlNzAtZjU2OS00MjIwLWE2ZDctYzZkMWE1ZDljZDAyXzEwMA=="


def client(**settings: object) -> linkmsg.Client:
    return linkmsg.Client(provider="connectsafely", api_key="test-key-conversations", base_url=BASE_URL, **settings)


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def test_messaging_page_shape_across_three_pages() -> None:
    with cassette("connectsafely", "recent_messages_messaging"), client() as c:
        pages = []
        cursor = None
        while True:
            page = c.list_conversations(limit=2, cursor=cursor)
            pages.append(page)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert c.provider.mailbox_urn == OWNER
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [p.has_more for p in pages] == [True, True, False]
    assert pages[0].total == 5
    conversations = [conv for p in pages for conv in p]
    assert len({conv.id for conv in conversations}) == 5
    first = conversations[0]
    assert first.id == f"urn:li:msg_conversation:({OWNER},{T1})"
    assert first.thread_id == T1
    assert first.unread_count == 2
    assert first.last_activity_at == ms(1763794295257)
    (john,) = first.participants
    assert john.urn == "urn:li:fsd_profile:ACoAADSoo60BM6hxemTbnN2aA_Z1-WlNFRhRYhU"
    assert john.id == john.urn and john.name == "John Doe" and john.headline == "Software Engineer"
    assert john.is_self is False
    assert first.latest_message is not None
    assert first.latest_message.text == "Hello, how are you?"
    assert first.latest_message.sent_at == ms(1763794295257)
    assert first.latest_message.sender == john
    assert first.latest_message.id is None  # the preview carries no id
    assert conversations[1].latest_message is not None
    assert conversations[1].latest_message.text == "¿Podemos hablar el martes? 🙌"
    # a vanity slug as profileId: no URN, the slug is the key
    (jane,) = conversations[3].participants
    assert (jane.id, jane.urn, jane.public_id) == ("jane-smith-42", None, "jane-smith-42")
    # a group conversation
    assert [p.name for p in conversations[4].participants] == ["John Doe", "María José Núñez"]


def test_iter_conversations_lists_each_once() -> None:
    with cassette("connectsafely", "recent_messages_messaging"), client() as c:
        ids = [conv.id for conv in c.iter_conversations(page_size=2)]
    assert len(ids) == len(set(ids)) == 5


def test_legacy_shape_with_filters_and_account() -> None:
    legacy_owner = "urn:li:fsd_profile:ACoAABcnQx7sLk2V9pTfE1uWbYhRzD4gMo3aJe8"
    with cassette("connectsafely", "recent_messages_legacy"), client(account_id="507f1f77bcf86cd799439011") as c:
        got = list(c.iter_conversations(unread=True, keywords="hello", page_size=20))
    assert len(got) == 3
    first = got[0]
    # conversationId is a messagingThread URN here; the id is still the msg_conversation URN
    assert first.id.startswith(f"urn:li:msg_conversation:({legacy_owner},2-")
    assert first.thread_id is not None and first.id.endswith(f",{first.thread_id})")
    assert first.last_activity_at == ms(1704067200000)
    (numeric,) = first.participants
    # a numeric profileId is neither a URN nor a slug
    assert (numeric.id, numeric.urn, numeric.public_id) == ("123456", None, None)
    assert numeric.picture_url == "https://media.licdn.com/dms/image/john.jpg"
    (slug,) = got[1].participants
    assert (slug.urn, slug.public_id) == (None, "john-doe-123")
    assert got[1].latest_message is not None and got[1].latest_message.text == "Hello again"


def test_guide_shape_learns_the_mailbox_with_one_details_read() -> None:
    seed_owner = "urn:li:fsd_profile:ACoAABpGQcMBI08myTal7qDJ5zb9lJiM24nFjJI"
    seed_thread = "2-YTlkMzliMTAtMjA4Zi00ODc4LTgxZDgtZTI4ZDY0Zjg1YTE4XzEwMA=="
    with cassette("connectsafely", "recent_messages_guide") as tape, client() as c:
        page = c.list_conversations()
        assert c.provider.mailbox_urn == seed_owner
        assert tape.play_count == 2
    (conv,) = page.items
    assert conv.id == f"urn:li:msg_conversation:({seed_owner},{seed_thread})"
    assert conv.thread_id == seed_thread
    assert page.next_cursor is None


def test_redirect_to_conversations_is_followed_and_read() -> None:
    with cassette("connectsafely", "recent_messages_redirect") as tape, client() as c:
        first = c.list_conversations(limit=2)
        second = c.list_conversations(limit=2, cursor=first.next_cursor)
        assert tape.play_count == 4  # two 307s and their targets
    assert first.has_more and not second.has_more  # hasMore: false ends it despite a nextCursor
    a, b = first.items
    assert a.id == f"urn:li:msg_conversation:({OWNER},{T1})"  # not the conv_… database id
    assert b.thread_id == T2
    assert a.last_activity_at == ms(1763794295257)
    # lastActivityAt "example_value": the page survives; the latest message's time stands in
    assert b.last_activity_at == ms(1763700000000)
    c3, c4 = second.items
    # "example_value" and an empty latestMessage {}: nothing to stand in
    assert c3.last_activity_at is None and c3.latest_message is None
    assert c4.latest_message is not None and c4.latest_message.text == "Pricing attached"


def test_redirect_target_is_filtered_client_side() -> None:
    with cassette("connectsafely", "recent_messages_redirect_filtered") as tape, client() as c:
        page = c.list_conversations(limit=2, unread=True, keywords="pricing")
        assert tape.play_count == 4  # the first page had no match, so the next was read
    # /linkedin/conversations ignored both filters: linkmsg keeps unread threads mentioning "pricing"
    assert [conv.thread_id for conv in page.items] == [T1]
    assert page.next_cursor is None
