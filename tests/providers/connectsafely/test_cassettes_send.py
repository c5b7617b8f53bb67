"""Sends, typing, mark-seen and the vendor-only operations, replayed from cassettes (vendors.md §2.5, §2.6)."""

from __future__ import annotations

import linkmsg
from linkmsg.model import Participant
from tests.support.cassettes import cassette

BASE_URL = "https://api.connectsafely.ai"
ACCOUNT = "696ce9e780e0483585e4e553"
OWNER = "urn:li:fsd_profile:ACoAAATPlQ0Bc8wdg-Iy8wZgEDuSdIVWJiE1Aio"
JOHN = "urn:li:fsd_profile:ACoAADSoo60BM6hxemTbnN2aA_Z1-WlNFRhRYhU"
SEED_OWNER = "urn:li:fsd_profile:ACoAABpGQcMBI08myTal7qDJ5zb9lJiM24nFjJI"
SEED_THREAD = "2-YTlkMzliMTAtMjA4Zi00ODc4LTgxZDgtZTI4ZDY0Zjg1YTE4XzEwMA=="
SEED_CONV = f"urn:li:msg_conversation:({SEED_OWNER},{SEED_THREAD})"
T2_CONV = f"urn:li:msg_conversation:({OWNER},2-NzkzMDFlNzAtZjU2OS00MjIwLWE2ZDctYzZkMWE1ZDljZDAyXzEwMA==)"
M1 = (
    f"urn:li:msg_message:({SEED_OWNER},"
    "2-MTc2Mzc5NDI5NTI1N2IxNzUzMS0xMDAmYTlkMzliMTAtMjA4Zi00ODc4LTgxZDgtZTI4ZDY0Zjg1YTE4XzEwMA==)"
)


def client(**settings: object) -> linkmsg.Client:
    return linkmsg.Client(provider="connectsafely", api_key="test-key-send", base_url=BASE_URL, **settings)


def test_send_with_typing_to_a_profile_url() -> None:
    with cassette("connectsafely", "send_with_typing") as tape, client() as c:
        result = c.send_message(
            "Hello! I would like to connect with you.", to="https://www.linkedin.com/in/john-doe-123/"
        )
        assert tape.all_played
    # the vendor returns no message id or time: none is invented
    assert (result.message_id, result.sent_at, result.delivered, result.conversation_id) == (None, None, None, None)
    assert result.raw is not None and result.raw["typingIndicatorSent"] is True


def test_plain_send_by_urn_without_typing() -> None:
    with cassette("connectsafely", "send_plain") as tape, client() as c:
        result = c.send_message("Hello! I would like to connect with you.", to=JOHN, typing=False)
        assert tape.all_played
    assert result.message_id is None


def test_inmail_with_subject_and_account() -> None:
    recipient = Participant(urn=JOHN, name="John Doe")
    with cassette("connectsafely", "send_inmail") as tape, client(account_id=ACCOUNT) as c:
        c.send_message("Would you be open to a chat?", to=recipient, inmail=True, subject="Opportunity at Acme")
        assert tape.all_played


def test_reply_resolves_the_one_other_participant() -> None:
    with cassette("connectsafely", "reply_with_typing") as tape, client() as c:
        result = c.send_message("Thanks Leonard!", conversation=SEED_CONV)
        assert tape.all_played  # conversation-details (countBefore=1), then send-with-typing to Leonard
    assert result.conversation_id == SEED_CONV
    assert result.message_id is None


def test_reply_into_a_group_thread_by_bare_id() -> None:
    with cassette("connectsafely", "reply_group") as tape, client() as c:
        result = c.send_message("Hello both!", conversation=SEED_THREAD)
        assert tape.all_played  # details (mailbox + participants), typing-indicator, conversations/send
    assert result.conversation_id == SEED_CONV


def test_reply_without_typing_needs_no_read() -> None:
    with cassette("connectsafely", "reply_without_typing") as tape, client() as c:
        result = c.send_message("Hello! I would like to connect with you.", conversation=T2_CONV, typing=False)
        assert tape.play_count == 1
    assert result.conversation_id == T2_CONV and result.message_id is None


def test_typing_indicator_and_mark_seen() -> None:
    with cassette("connectsafely", "typing_indicator") as tape, client() as c:
        assert c.send_typing(T2_CONV) is None
        assert tape.all_played
    with cassette("connectsafely", "mark_seen") as tape, client(account_id=ACCOUNT) as c:
        assert c.mark_read(T2_CONV) is None
        assert tape.all_played


def test_group_sends_and_acknowledgements() -> None:
    with cassette("connectsafely", "send_group_with_typing") as tape, client() as c:
        result = c.ex_send_group(JOHN, "12345", "Hi from the group!")
        assert tape.all_played
    assert result.message_id is None and result.raw is not None and result.raw["groupId"] == "12345"
    with cassette("connectsafely", "send_group_with_ack") as tape, client() as c:
        result = c.ex_send_group_with_ack(JOHN, "12345", "Hi from the group!", message_urns=[M1])
        assert tape.all_played
    # acknowledgmentSent concerns the acknowledged (received) messages, not delivery of this one
    assert result.delivered is None
    with cassette("connectsafely", "send_with_ack") as tape, client() as c:
        c.ex_send_with_ack("Got it, thanks!", "ACoAACr-hewBS7g6tYN16g77Gx5Cuvm0hJPUfNM", message_urns=[M1])
        assert tape.all_played
