"""The linkup provider replayed against the documented LinkupAPI v1 examples (cassettes/linkup)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import linkmsg
from linkmsg.errors import (
    AuthenticationError,
    InvalidArgument,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    UnsupportedOperation,
)
from linkmsg.model import Conversation, Message, MessageKind, Participant
from tests.support.cassettes import cassette

API_KEY = "test-key-linkup-3f9a1c"
LOGIN_TOKEN = "AQEDAT-test-login-token-b7d2e0"
OWNER = "ACoAADxnv0oB_dN-NfpvEBlsVPU_W1omM-Xu24o"
DOC_CONVERSATION = (
    "urn:li:msg_conversation:(urn:li:fsd_profile:ACoAADxnv0oB_dN-NfpvEBlsPU_W1omM-Xu24o,"
    "2-M2ZkODhkZjYtZDI1ZC00NzE4LWFiYjgtZDY4YmUxMGMwM2NkXzEwMA==)"
)
HISTORY_THREAD = "2-OTFjNWU3YWMtN2IwNi00ZWUwLWE1YzYtNTg4OGNkMGU2ZGRhXzAxMw=="
HISTORY_CONVERSATION = f"urn:li:msg_conversation:(urn:li:fsd_profile:{OWNER},{HISTORY_THREAD})"
ALES_PROFILE = "https://www.linkedin.com/in/al%C3%A9s-pr%C3%A9w-aa0262324/"


def new_client(**settings: Any) -> linkmsg.Client:
    return linkmsg.Client(
        "linkup", api_key=API_KEY, login_token=LOGIN_TOKEN, base_url="https://api.linkupapi.com", **settings
    )


@pytest.fixture
def client() -> Iterator[linkmsg.Client]:
    with new_client() as c:
        yield c


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


# ---------------------------------------------------------------- inbox


def test_documented_inbox(client: linkmsg.Client) -> None:
    with cassette("linkup", "inbox_documented"):
        page = client.list_conversations()
    (conversation,) = page.items
    assert conversation.id == DOC_CONVERSATION
    assert conversation.thread_id == "2-M2ZkODhkZjYtZDI1ZC00NzE4LWFiYjgtZDY4YmUxMGMwM2NkXzEwMA=="
    (other,) = conversation.participants
    assert other.name == "John Bell 🗓️⚡️"
    assert other.public_id == other.id == "michaeltoddbell"
    assert other.urn is None  # a vanity URL names no member id
    assert other.headline is not None and other.headline.startswith("AI that instantly converts")
    assert other.picture_url is not None and other.picture_url.startswith("https://media.licdn.com/")
    assert other.is_self is False
    latest = conversation.latest_message
    assert latest is not None
    assert latest.text.startswith("Hey Mike, I'm the founder of LinkupAPI")
    assert latest.sent_at == conversation.last_activity_at == datetime(2025, 5, 30, 18, 23, 46, 457000, tzinfo=UTC)
    assert latest.sender.name == "Titouan Prioux"
    assert latest.sender.urn == f"urn:li:fsd_profile:{OWNER}"
    # The example's mailbox id (…BlsPU…) differs by one letter from the sender's (…BlsVPU…):
    # the sender is neither the mailbox nor the participant, so who sent it is not derivable.
    assert latest.outgoing is None and latest.sender.is_self is None
    assert latest.id is None  # v1 does not identify the latest message
    assert conversation.unread_count == 0
    assert conversation.category == "inbox"
    assert page.has_more and page.next_cursor is not None
    assert page.total is None  # data.total_results counts this response only
    assert page.credits_used == 1 and client.credits_used == 1


def test_legacy_inbox_shape(client: linkmsg.Client) -> None:
    with cassette("linkup", "inbox_legacy"):
        page = client.list_conversations()
    (conversation,) = page.items
    # The early id form names no mailbox: it is kept as the vendor wrote it.
    assert conversation.id == "urn:li:conversation:123456789"
    assert conversation.thread_id == "123456789"
    assert conversation.participants[0].public_id == "johndoe"
    assert conversation.participants[0].profile_url == "https://www.linkedin.com/in/johndoe/"
    latest = conversation.latest_message
    assert latest is not None and latest.text == "Thanks for connecting!"
    assert latest.sent_at == datetime(2023, 3, 23, tzinfo=UTC)
    assert latest.sender == Participant() and latest.outgoing is None
    assert conversation.unread_count == 1
    assert page.next_cursor is None and not page.has_more


def test_three_inbox_pages(client: linkmsg.Client) -> None:
    pages = []
    cursor = None
    with cassette("linkup", "inbox_three_pages"):
        for _ in range(3):
            page = client.list_conversations(limit=2, cursor=cursor)
            pages.append(page)
            cursor = page.next_cursor
    assert cursor is None
    assert [len(p) for p in pages] == [2, 2, 1]
    conversations = [c for p in pages for c in p]
    assert len({c.id for c in conversations}) == 5
    assert all(c.id.startswith(f"urn:li:msg_conversation:(urn:li:fsd_profile:{OWNER},2-") for c in conversations)
    times = [c.last_activity_at for c in conversations]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    # The owner appears with the mailbox's id-based URL; the other side is the participant.
    outgoing = [c.latest_message.outgoing for c in conversations if c.latest_message]
    assert outgoing == [True, False, False, True, False]
    assert [c.category for c in conversations] == ["inbox", "inbox", "inbox", "inbox", "inmail"]
    assert [p.credits_used for p in pages] == [1, 1, 1] and client.credits_used == 3
    assert client.provider.mailbox_urn == f"urn:li:fsd_profile:{OWNER}"


def test_iter_conversations_and_emulated_keywords(client: linkmsg.Client) -> None:
    with cassette("linkup", "inbox_three_pages"):
        every = list(client.iter_conversations(page_size=2))
    assert len(every) == 5
    # No keyword search in v1: linkmsg filters each page by names and latest text.
    with cassette("linkup", "inbox_three_pages"):
        found = list(client.iter_conversations(keywords="HEY", page_size=2))
    assert [c.id for c in found] == [every[0].id, every[4].id]
    with cassette("linkup", "inbox_three_pages"):
        by_name = list(client.iter_conversations(keywords="jane doe", page_size=2))
    assert [c.participants[0].name for c in by_name] == ["Jane Doe"]
    assert client.credits_used == 9  # every page fetched is paid for, matched or not


def test_unread_filter_and_category_option(client: linkmsg.Client) -> None:
    with cassette("linkup", "inbox_unread_and_inmail"):
        unread = client.list_conversations(unread=True)
        inmail = client.list_conversations(category="inmail")
    assert [c.unread_count for c in unread] == [2, 1]
    # UNREAD is a filter, not a category: only a specific `type` says more.
    assert [c.category for c in unread] == [None, "inmail"]
    assert [c.category for c in inmail] == ["inmail"]


def test_bad_category_options_raise_before_any_request(client: linkmsg.Client) -> None:
    with pytest.raises(InvalidArgument, match="category must be one of"):
        client.list_conversations(category="spam")
    with pytest.raises(InvalidArgument, match="unread=True"):
        client.list_conversations(unread=True, category="job")


# ---------------------------------------------------------------- history


def test_history_cursor_mode_three_pages(client: linkmsg.Client) -> None:
    pages = []
    cursor = None
    with cassette("linkup", "history_cursor_three_pages"):
        for _ in range(3):
            page = client.list_messages(HISTORY_CONVERSATION, limit=3, cursor=cursor)
            pages.append(page)
            cursor = page.next_cursor
    assert cursor is None
    # Page 2 repeats the boundary message (the vendor's "older than"), page 3 the
    # first of two messages sharing a millisecond: each comes out once.
    assert [len(p) for p in pages] == [3, 2, 2]
    messages = [m for p in pages for m in p]
    assert len({m.id for m in messages}) == 7
    assert [m.sent_at for m in messages] == sorted((m.sent_at for m in messages), reverse=True)
    first, second, system = pages[0].items
    assert first.id.startswith(f"urn:li:msg_message:(urn:li:fsd_profile:{OWNER},2-MTc0NTI3MDAyNTA5MWIzODI1")
    assert first.conversation_id == HISTORY_CONVERSATION
    assert first.text == "😃" and first.sent_at == ms(1745270025236)
    assert first.sender == Participant(name="Titouan Prioux", first_name="Titouan", last_name="Prioux")
    assert first.outgoing is None  # a display name alone does not say who is the owner
    assert second.text == "hello" and second.sender.name == "Alés Préw"
    assert system.kind is MessageKind.SYSTEM and system.text == ""
    assert system.sent_at == datetime(2025, 4, 21, 20, 14, 58, 889000, tzinfo=UTC)
    assert [m.text for m in pages[2]] == ["Two messages, one millisecond (2/2)", "Nice to meet you!"]
    assert pages[2].items[1].kind is MessageKind.INVITATION
    assert [p.credits_used for p in pages] == [1, 1, 1]


def test_history_with_conversation_object_derives_outgoing(client: linkmsg.Client) -> None:
    owner = Participant(name="Titouan Prioux", is_self=True)
    ales = Participant(name="Alés Préw", profile_url=ALES_PROFILE, is_self=False)
    latest = Message("", HISTORY_CONVERSATION, "😃", ms(1745270025236), owner, outgoing=True)
    conversation = Conversation(HISTORY_CONVERSATION, HISTORY_THREAD, (ales,), latest_message=latest)
    with cassette("linkup", "history_cursor_three_pages"):
        messages = list(client.iter_messages(conversation, page_size=3))
    assert len(messages) == 7
    assert {(m.sender.name, m.outgoing) for m in messages} == {("Titouan Prioux", True), ("Alés Préw", False)}


def test_history_page_mode_three_pages(client: linkmsg.Client) -> None:
    pages = []
    cursor = None
    with cassette("linkup", "history_pages_three_pages"):
        for _ in range(3):
            page = client.list_messages(HISTORY_CONVERSATION, limit=20, cursor=cursor)
            pages.append(page)
            cursor = page.next_cursor
    assert cursor is None
    assert [len(p) for p in pages] == [10, 20, 3]
    messages = [m for p in pages for m in p]
    assert [m.text for m in messages] == [f"Message {n}" for n in range(1, 34)]
    assert len({m.id for m in messages}) == 33
    assert [p.credits_used for p in pages] == [1, 2, 1]  # page mode: 1 credit per page fetched


def test_history_by_profile_when_no_mailbox_is_known(client: linkmsg.Client) -> None:
    # A bare thread id names no mailbox: the other person's profile finds the thread.
    ales = Participant(name="Alés Préw", profile_url=ALES_PROFILE, is_self=False)
    conversation = Conversation(HISTORY_THREAD, HISTORY_THREAD, (ales,))
    with cassette("linkup", "history_by_profile"):
        page = client.list_messages(conversation)
    assert [m.text for m in page] == ["😃", "hello", ""]
    assert {m.conversation_id for m in page} == {HISTORY_CONVERSATION}  # from the answer
    assert page.next_cursor is None
    assert {(m.sender.name, m.outgoing) for m in page} == {("Titouan Prioux", None), ("Alés Préw", False)}
    assert client.provider.mailbox_urn == f"urn:li:fsd_profile:{OWNER}"


def test_bare_thread_id_without_known_mailbox_is_refused(client: linkmsg.Client) -> None:
    with pytest.raises(InvalidArgument, match="full conversation id"):
        client.list_messages(HISTORY_THREAD)


def test_no_conversation_found_is_not_found(client: linkmsg.Client) -> None:
    john = Participant(name="John Doe", profile_url="https://www.linkedin.com/in/johndoe/")
    with cassette("linkup", "history_not_found"), pytest.raises(NotFoundError) as info:
        client.list_messages(Conversation("2-M2ZkODhkZjYtZDI1ZC00NzE4LWFiYjgtZDY4YmUxMGMwM2NkXzEwMA==", None, (john,)))
    assert "No conversation found with this profile" in str(info.value)
    assert info.value.status is None  # a "success" without data


def test_missing_parameter_error(client: linkmsg.Client) -> None:
    with cassette("linkup", "history_missing_parameter"), pytest.raises(ProviderError) as info:
        client.list_messages(HISTORY_CONVERSATION)
    assert info.value.status == 400 and not info.value.retryable
    assert "either 'conversation_id' or 'linkedin_url'" in str(info.value)


# ---------------------------------------------------------------- send


def test_send_current_answer(client: linkmsg.Client) -> None:
    with cassette("linkup", "send_current"):
        result = client.send_message("Hello from linkmsg 👋", to="ACoAAFHoUZgB6wGz0HEW1MdqGW45NI4e-JhvGqQ")
    assert result.message_id == (
        "urn:li:msg_message:(urn:li:fsd_profile:ACoAAFHoUZgB6wGz0HEW1MdqGW45NI4e-JhvGqQ,"
        "2-MTc1MzY5NjE4NzkxMmIyODM2My0xMDAmZDYxZWIyZjUtMDQ5MS00NjJmLWJjY2ItOWFkYWVhZmM4MWFmXzEwMA==)"
    )
    assert result.conversation_id == (
        "urn:li:msg_conversation:(urn:li:fsd_profile:ACoAAFHoUZgB6wGz0HEW1MdqGW45NI4e-JhvGqQ,"
        "2-ZDYxZWIyZjUtMDQ5MS00NjJmLWJjY2ItOWFkYWVhZmM4MWFmXzEwMA==)"
    )
    assert result.sent_at == datetime(2025, 7, 28, 9, 49, 48, 256000, tzinfo=UTC)
    assert result.delivered is True
    assert result.credits_used == 1 and client.credits_used == 1


def test_send_legacy_answer_with_media(client: linkmsg.Client) -> None:
    with cassette("linkup", "send_legacy_media"):
        result = client.send_message(
            "Here is the deck",
            to="https://www.linkedin.com/in/michaeltoddbell/",
            media_url="https://example.com/deck.pdf",
        )
    # "Message sent successfully" and nothing else: no id is invented.
    assert (result.message_id, result.conversation_id, result.sent_at, result.delivered) == (None, None, None, None)
    assert result.credits_used == 2  # 2 credits with media


def test_reply_finds_the_other_participant(client: linkmsg.Client) -> None:
    with cassette("linkup", "reply_by_lookup"):
        result = client.send_message("Happy to chat, Mike", conversation=DOC_CONVERSATION)
    assert result.message_id is None
    assert result.credits_used == 2 and client.credits_used == 2  # 1 for the inbox read, 1 for the send


def test_reply_in_a_group_is_unsupported(client: linkmsg.Client) -> None:
    people = (Participant(name="A", profile_url="https://www.linkedin.com/in/aaa"), Participant(name="B"))
    group = Conversation(DOC_CONVERSATION, None, people)
    with cassette("linkup", "reply_by_lookup") as played, pytest.raises(UnsupportedOperation, match="group") as info:
        client.send_message("Hi all", conversation=group)
    assert info.value.capability == "reply_in_conversation"
    assert played.play_count == 0


def test_inmail_is_unsupported(client: linkmsg.Client) -> None:
    with pytest.raises(UnsupportedOperation):
        client.send_message("Hi", to="https://www.linkedin.com/in/johndoe", inmail=True, subject="Hello")


# ---------------------------------------------------------------- errors


def test_401_says_key_or_credits(client: linkmsg.Client) -> None:
    with cassette("linkup", "error_401_key_or_credits"), pytest.raises(AuthenticationError) as info:
        client.list_conversations()
    error = info.value
    assert not isinstance(error, PermissionDeniedError)
    assert error.status == 401 and error.vendor_message == "Invalid API key or insufficient credits"
    assert "API key" in str(error) and "credits" in str(error)
    assert API_KEY not in str(error)


@pytest.mark.parametrize(("name", "status"), [("error_403_token_expired", 403), ("error_200_token_expired", None)])
def test_expired_login_token(client: linkmsg.Client, name: str, status: int | None) -> None:
    with cassette("linkup", name), pytest.raises(PermissionDeniedError) as info:
        client.list_conversations()
    assert info.value.status == status
    assert "login_token" in str(info.value) and "log in again" in str(info.value)
    assert LOGIN_TOKEN not in str(info.value)


def test_linkedin_rate_limit_is_not_retried(client: linkmsg.Client) -> None:
    # The cassette holds one answer: a retry would fail to find a second one.
    with cassette("linkup", "error_429_linkedin"), pytest.raises(RateLimitError) as info:
        client.list_conversations()
    assert "LinkedIn is rate-limiting" in str(info.value) and not info.value.retryable


def test_api_rate_limit() -> None:
    with (
        new_client(max_retries=0) as client,
        cassette("linkup", "error_429_api"),
        pytest.raises(RateLimitError) as info,
    ):
        client.list_conversations()
    assert "LinkupAPI's own request rate limit" in str(info.value) and info.value.retryable


def test_server_error() -> None:
    with (
        new_client(max_retries=0) as client,
        cassette("linkup", "error_500_linkedin"),
        pytest.raises(ServerError) as info,
    ):
        client.list_conversations()
    assert info.value.status == 500 and "LinkedIn API error occurred" in str(info.value)


def test_404(client: linkmsg.Client) -> None:
    john = Participant(name="John Doe", profile_url="https://www.linkedin.com/in/johndoe/")
    with cassette("linkup", "error_404_bad_url"), pytest.raises(NotFoundError) as info:
        client.list_messages(Conversation("2-M2ZkODhkZjYtZDI1ZC00NzE4LWFiYjgtZDY4YmUxMGMwM2NkXzEwMA==", None, (john,)))
    assert info.value.status == 404


def test_send_errors_are_not_retried(client: linkmsg.Client) -> None:
    with cassette("linkup", "error_400_send"), pytest.raises(ProviderError) as info:
        client.send_message("Hi", to="https://www.linkedin.com/in/johndoe")
    assert info.value.status == 400 and "profile URL" in str(info.value)
    with cassette("linkup", "error_200_send_failed"), pytest.raises(ProviderError) as info:
        client.send_message("Hi", to="https://www.linkedin.com/in/johndoe")
    assert info.value.status is None and info.value.vendor_message == "Error while sending message"


def test_422_validation_detail(client: linkmsg.Client) -> None:
    with cassette("linkup", "error_422_validation"), pytest.raises(ProviderError) as info:
        client.list_conversations()
    text = str(info.value)
    assert info.value.status == 422 and not info.value.retryable
    assert "body.total_results: Input should be a valid integer" in text
    assert "body.login_token: Field required" in text
    assert "REDACTED" not in text  # the echoed `input` is never shown
