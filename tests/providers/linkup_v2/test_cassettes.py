"""linkup-v2 against cassettes built from the documented examples (vendors.md §4).

Every call is ``POST /v2/messages``, so vcrpy matches interactions on the JSON
body; ``cassettes/README.md`` says which documented shape each cassette holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import linkmsg
from linkmsg.errors import (
    AuthenticationError,
    InvalidArgument,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    SendOutcomeUnknown,
    ServerError,
    UnsupportedOperation,
)
from linkmsg.memory import thread_id_for
from linkmsg.model import Conversation, MessageKind, Participant
from tests.support.cassettes import cassette

API_KEY = "test-key-linkup-v2-cassettes"
ACCOUNT = "acc_123"
MAILBOX = "urn:li:fsd_profile:ACoAAATPlQ0Bc8wdg-Iy8wZgEDuSdIVWJiE1Aio"
THREAD1 = "2-MDZiY2ExOTgtM2NjNy00OTU4LTgyNjUtZWFlMmIwZjM1NTlmXzEwMA=="
THREAD2 = "2-ODFkYjU4M2ItZDlmYS00YTVjLThlNTQtZjI5YTE4ZWUyZDk5XzEwMA=="
CONV1 = f"urn:li:msg_conversation:({MAILBOX},{THREAD1})"
CONV2 = f"urn:li:msg_conversation:({MAILBOX},{THREAD2})"
SALES_THREAD = "2-OTQwMTJlODEtOTUxMy00NGNlLWIyNmQtMDJjYTU4MmQyMTcxXzEwMA=="
GROUP = thread_id_for("a4d81c6e-3f2b-4e97-8c05-b1e6f9a2d7c3")  # a three-person thread
VANITY = thread_id_for("0b9e6d3c-7a15-4f82-9e4d-c6a2b8f1e305")  # the documented example: vanity URLs only


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


@pytest.fixture
def client() -> Iterator[linkmsg.Client]:
    with linkmsg.Client(provider="linkup-v2", api_key=API_KEY, account_id=ACCOUNT, max_retries=0) as client:
        yield client


# ---------------------------------------------------------------- list_inbox


def test_list_inbox_three_pages(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "list_inbox_three_pages"):
        pages = [client.list_conversations(limit=2)]
        while pages[-1].next_cursor is not None:
            pages.append(client.list_conversations(limit=2, cursor=pages[-1].next_cursor))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [p.has_more for p in pages] == [True, True, False]
    first, second = pages[0].items
    assert first.id == CONV1 and first.thread_id == THREAD1
    assert first.participants[0].name == "Jane Doe"
    assert first.participants[0].public_id == "jane-doe-42"
    assert first.participants[0].headline == "Founder at Acme Corp"
    assert first.last_activity_at == ms(1777147641366)
    assert first.latest_message is not None
    assert first.latest_message.text == "Sounds good, talk soon!"
    assert first.latest_message.outgoing is False
    assert first.category == "inbox" and first.unread_count == 0
    # last_message.sender.is_me gives `outgoing`.
    assert second.latest_message is not None and second.latest_message.outgoing is True
    assert second.latest_message.sender.urn == MAILBOX
    inmail, company = pages[1].items
    assert inmail.category == "inmail" and inmail.unread_count == 2
    assert company.participants[0].name == "Acme Corp"
    assert pages[2].items[0].category == "sponsored"
    # 1 credit per page, summed by the client.
    assert [p.credits_used for p in pages] == [1, 1, 1]
    assert client.credits_used == 3
    assert client.provider.mailbox_urn == MAILBOX


def test_iter_conversations_follows_the_documented_cursor(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "list_inbox_three_pages"):
        ids = [c.id for c in client.iter_conversations(page_size=2)]
    assert len(ids) == len(set(ids)) == 5


def test_list_inbox_documented_example_verbatim(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "list_inbox_documented"):
        page = client.list_conversations()
    (conversation,) = page.items
    # The docs elide the mailbox ("ACoAA..."): the id is kept as given, not guessed.
    assert conversation.id.startswith("urn:li:msg_conversation:(urn:li:fsd_profile:ACoAA...,")
    assert conversation.thread_id is None
    assert conversation.participants[0].picture_url == "https://media.licdn.com/dms/image/v2/.../profile.jpg"
    assert page.next_cursor is not None and page.credits_used == 1


def test_unread_filter_and_category_option(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "list_inbox_categories"):
        unread = client.list_conversations(unread=True)
        inmail = client.list_conversations(category="inmail")
    assert [c.unread_count for c in unread.items] == [2]
    assert unread.next_cursor is None and not unread.has_more
    assert [c.category for c in inmail.items] == ["inmail"]


def test_bad_category_and_conflicting_unread_raise_before_any_request(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "list_inbox_categories"):  # an unmatched request would fail the test
        with pytest.raises(InvalidArgument, match="category must be one of"):
            client.list_conversations(category="ARCHIVED")
        with pytest.raises(InvalidArgument, match="UNREAD"):
            client.list_conversations(unread=True, category="INMAIL")
        with pytest.raises(InvalidArgument, match="sales_nav"):
            client.list_conversations(sales_nav="yes")


# ---------------------------------------------------------------- get_conversation


def test_history_three_pages_with_a_shared_millisecond(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "get_conversation_three_pages"):
        pages = [client.list_messages(CONV1, limit=2)]
        while pages[-1].next_cursor is not None:
            pages.append(client.list_messages(CONV1, limit=2, cursor=pages[-1].next_cursor))
    texts = [[m.text for m in p] for p in pages]
    assert texts == [
        ["Sounds good, talk soon!", "Hey, are you available for a call tomorrow?"],
        ["Alex Martin invited you to connect"],
        ["Have a look at this post", ""],
    ]
    messages = [m for p in pages for m in p]
    assert len({m.id for m in messages}) == 5
    assert messages[1].sent_at == messages[2].sent_at == ms(1777146492678)
    assert [m.kind for m in messages] == [
        MessageKind.TEXT,
        MessageKind.TEXT,
        MessageKind.INVITATION,
        MessageKind.SHARED_POST,
        MessageKind.MEDIA,
    ]
    assert all(m.conversation_id == CONV1 for m in messages)
    jane = messages[0].sender
    assert (jane.name, jane.first_name, jane.last_name) == ("Jane Doe", "Jane", "Doe")
    assert jane.public_id == "jane-doe-42" and jane.urn is None
    # Classic messages carry no is_me: only an id-based profile URL tells.
    assert messages[0].outgoing is None
    assert messages[2].outgoing is True and messages[2].sender.urn == MAILBOX
    (attachment,) = messages[4].attachments
    assert attachment == linkmsg.Attachment("file", "https://www.linkedin.com/dms/prv/document/...", "proposal.pdf")
    assert pages[0].total == 5
    assert [p.credits_used for p in pages] == [1, 1, 2]  # the last page took two reads


def test_history_ignores_the_documented_next_cursor(client: linkmsg.Client) -> None:
    """§6 item 3: the example's next_cursor lies older than its oldest message; the page after
    it is asked from that message (+1 ms), so nothing between the two can be skipped."""
    with cassette("linkup-v2", "get_conversation_documented"):
        first = client.list_messages(CONV1, limit=2)
        assert first.next_cursor is not None
        second = client.list_messages(CONV1, limit=2, cursor=first.next_cursor)
    assert [m.text for m in first] == ["Sounds good, talk soon!", "Hey, are you available for a call tomorrow?"]
    assert first.total == 55
    assert second.items == () and second.next_cursor is None


def test_mark_read_reads_one_message_with_mark_as_read(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "mark_read"):
        client.mark_read(CONV1)
        with pytest.raises(ProviderError, match="could not mark it read") as info:
            client.mark_read(CONV2)
    assert info.value.vendor_message == "LinkedIn did not accept the read receipt"


# ---------------------------------------------------------------- Sales Navigator


def test_sales_nav_inbox_history_and_reply(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "sales_nav"):
        conversations = list(client.iter_conversations(page_size=1, sales_nav=True))
        jessica = conversations[0]
        page = client.list_messages(jessica)
        result = client.send_message("Great, does Tuesday work?", conversation=jessica)
    assert jessica.thread_id == SALES_THREAD
    assert jessica.id == f"urn:li:salesNav_thread:{SALES_THREAD}"
    assert len(conversations) == 3 and conversations[2].latest_message is not None
    assert conversations[2].latest_message.outgoing is True
    lead = jessica.participants[0]
    assert lead.id == "urn:li:fs_salesProfile:(ACwAAA...,NAME_SEARCH,JUf-)" and lead.urn is None
    assert (lead.first_name, lead.last_name, lead.is_self) == ("Jessica", "Jensen", False)
    assert jessica.latest_message is not None and jessica.latest_message.subject == "Quick question"
    # Sales Navigator histories have no cursor: the newest `count` messages.
    assert page.next_cursor is None and page.total == 8
    newest, opening = page.items
    assert newest.id == "2-MTc4NTIzNjk0MzI5OGI1ODI2Ni0xMDAm..."
    assert newest.kind == MessageKind.INMAIL and newest.outgoing is False
    assert opening.outgoing is True and opening.subject == "Quick question"
    assert opening.conversation_id == jessica.id
    # A reply goes to the lead's recipient_urn; the answer is the InMail shape.
    assert result.conversation_id == "urn:li:salesNav_thread:2-OTQwMTJlODEt..."
    assert result.message_id == "2-MTc4NTIyODc1..."
    assert client.credits_used == 5


def test_sales_nav_threads_cannot_be_marked_read(client: linkmsg.Client) -> None:
    conversation = Conversation(id=f"urn:li:salesNav_thread:{SALES_THREAD}", thread_id=SALES_THREAD)
    with cassette("linkup-v2", "sales_nav"), pytest.raises(UnsupportedOperation, match="Sales Navigator"):
        client.mark_read(conversation)


# ---------------------------------------------------------------- send


def test_send_every_documented_answer(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "send"):
        nested = client.send_message("Hi Jane, great to connect!", to="https://www.linkedin.com/in/jane-doe-42/")
        elided = client.send_message("Docs: does the elided example parse?", to="jane-doe-42")
        flat = client.send_message("Hello John", to="https://www.linkedin.com/in/john-smith-99")
        media = client.send_message(
            "Here is the proposal", to="jane-doe-42", media_url="https://example.com/proposal.pdf"
        )
        inmail = client.send_message(
            "Hi Jessica",
            to="https://www.linkedin.com/sales/lead/ACwAAAJessicaJensen0000000000000000000000,NAME_SEARCH,JUf-",
            inmail=True,
            subject="Quick question",
        )
    # Nested data.data (current docs): URNs and an ms deliveredAt.
    assert nested.conversation_id == CONV1
    assert nested.message_id is not None and nested.message_id.startswith(f"urn:li:msg_message:({MAILBOX},2-")
    assert nested.sent_at == ms(1785272227840) and nested.delivered is True
    assert elided.conversation_id == "urn:li:msg_conversation:(urn:li:fsd_profile:ACoAA...,2-M2RkYWQ4...)"
    # Flat data (docs site): ISO time, backend URN and bare thread id. The mailbox
    # is known from the first send here, so they become the canonical URNs.
    assert flat.conversation_id == f"urn:li:msg_conversation:({MAILBOX},2-YWJjMTIz)"
    assert flat.message_id == f"urn:li:msg_message:({MAILBOX},abc123)"
    assert flat.sent_at == datetime(2026, 3, 24, 12, tzinfo=UTC)
    assert media.credits_used == 2
    assert inmail.conversation_id == "urn:li:salesNav_thread:2-OTQwMTJlODEt..."
    assert inmail.message_id == "2-MTc4NTIyODc1..." and inmail.sent_at is None
    assert client.credits_used == 6


def test_flat_send_answer_without_a_known_mailbox_keeps_the_ids_given(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "send"):
        flat = client.send_message("Hello John", to="john-smith-99")
    assert flat.conversation_id == "2-YWJjMTIz"
    assert flat.message_id == "urn:li:messagingMessage:abc123"


def test_reply_resolves_the_other_participant_first(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "reply"):
        result = client.send_message("Tomorrow 10:00 works", conversation=CONV1)
        with pytest.raises(UnsupportedOperation, match="group conversation") as group:
            client.send_message("Hello all", conversation=f"urn:li:msg_conversation:({MAILBOX},{GROUP})")
        with pytest.raises(InvalidArgument, match="cannot tell the mailbox owner") as vanity:
            client.send_message("Hello?", conversation=f"urn:li:msg_conversation:({MAILBOX},{VANITY})")
        known = Conversation(
            id=CONV1,
            thread_id=THREAD1,
            participants=(Participant(profile_url="https://www.linkedin.com/in/jane-doe-42"),),
        )
        direct = client.send_message("Replying from the Conversation object", conversation=known)
    # The flat answer's bare ids become URNs: the mailbox is the conversation's.
    assert result.conversation_id == f"urn:li:msg_conversation:({MAILBOX},2-YWJjMTIz)"
    assert result.message_id == f"urn:li:msg_message:({MAILBOX},abc123)"
    assert result.credits_used == 2  # one history read + the send
    assert direct.credits_used == 1
    # The reads behind the two refused replies cost a credit each: the errors say so, and the client counts them.
    assert group.value.credits_used == 1 and vanity.value.credits_used == 1
    assert client.credits_used == 2 + 1 + 1 + 1


# ---------------------------------------------------------------- errors

ERRORS = [
    (1, AuthenticationError, 403, "check the api_key setting"),
    (2, NotFoundError, 404, "check the account_id setting"),
    (3, PermissionDeniedError, 403, "re-login to reconnect the LinkedIn account"),
    (4, ProviderError, 400, "Unknown action 'foo_bar'"),
    (5, ProviderError, 400, "account_id is required."),
    (6, RateLimitError, 429, "back off"),
    (7, PaymentRequiredError, 402, "top up"),
    (8, ProviderError, 422, "do not retry blindly"),
    (9, ServerError, 500, "retry after a few seconds"),
    (10, ProviderError, None, "LinkedIn refused the request"),
    (11, ProviderError, 409, "SOMETHING_NEW"),
]


@pytest.mark.parametrize(("count", "error", "status", "says"), ERRORS)
def test_error_codes(
    client: linkmsg.Client, count: int, error: type[ProviderError], status: int | None, says: str
) -> None:
    with cassette("linkup-v2", "errors"), pytest.raises(error) as info:
        client.list_conversations(limit=count)
    assert type(info.value) is error
    assert says in str(info.value)
    assert info.value.status == status
    assert API_KEY not in str(info.value)
    assert client.credits_used == 0  # errors cost nothing


def test_error_retryability(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "errors"):
        for count, retryable in ((4, False), (5, False), (6, True), (8, False), (9, True), (10, False)):
            with pytest.raises(ProviderError) as info:
                client.list_conversations(limit=count)
            assert info.value.retryable is retryable, count
            if count == 6:
                assert isinstance(info.value, RateLimitError) and info.value.retry_after == 30


def test_history_and_send_errors(client: linkmsg.Client) -> None:
    with cassette("linkup-v2", "errors"):
        with pytest.raises(ProviderError, match="Either conversation_id or profile_url is required") as bad:
            client.list_messages(CONV1)
        with pytest.raises(ProviderError, match="do not retry blindly") as refused:
            client.send_message("Hi via a restricted channel", to="jane-doe-42")
        # An internal error on a send may have delivered it: never retried, reported as unknown.
        with pytest.raises(SendOutcomeUnknown) as unknown:
            client.send_message("Hi during an outage", to="jane-doe-42")
    assert bad.value.code == "INVALID_PARAMS" and not bad.value.retryable
    assert refused.value.code == "CHANNEL_ERROR" and refused.value.status == 422
    assert unknown.value.text == "Hi during an outage"
