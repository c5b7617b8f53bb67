"""linkup-v2 round trips through its emulator, beyond the conformance kit.

The vendor's quirks: a ms-timestamp history cursor (shared milliseconds at a
page boundary, even at page size 1), the Sales Navigator inbox, replies that
must resolve a profile first, mark-read through get_conversation, credits, and
the "done when" of the issue over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from linkmsg_linkup_v2.emulator import LinkupV2Emulator

import linkmsg
from linkmsg.errors import AuthenticationError, InvalidArgument, NotFoundError, UnsupportedOperation
from linkmsg.memory import Inbox, demo_inbox
from linkmsg.model import MessageKind

API_KEY = "test-key"
ACCOUNT = "acc_test"


@pytest.fixture
def inbox() -> Inbox:
    return demo_inbox(seed=3, conversations=8, messages_per_conversation=15)


@pytest.fixture
def emulator(inbox: Inbox) -> LinkupV2Emulator:
    return LinkupV2Emulator(inbox, api_key=API_KEY, account_id=ACCOUNT)


def make_client(emulator: LinkupV2Emulator, **settings: Any) -> linkmsg.Client:
    options: dict[str, Any] = {"api_key": API_KEY, "account_id": ACCOUNT, "base_url": "https://emulator.invalid"}
    options.update(settings)
    return linkmsg.Client("linkup-v2", http_transport=httpx.MockTransport(emulator), **options)


@pytest.fixture
def client(emulator: LinkupV2Emulator) -> Iterator[linkmsg.Client]:
    with make_client(emulator) as client:
        yield client


def bodies(emulator: LinkupV2Emulator) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in emulator.requests]


def one_to_one(inbox: Inbox) -> linkmsg.Conversation:
    return next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)


# ---------------------------------------------------------------- paging


@pytest.mark.parametrize("page_size", [1, 2, 9, 10, 11])
def test_shared_millisecond_survives_every_page_size(
    client: linkmsg.Client, inbox: Inbox, emulator: LinkupV2Emulator, page_size: int
) -> None:
    for conversation in inbox.sorted_conversations():
        got = list(client.iter_messages(conversation.id, page_size=page_size))
        assert [m.id for m in got] == [m.id for m in inbox.messages[conversation.id]]
    # Every history cursor sent was one ms past a message time, never the vendor's next_cursor.
    cursors = [b["params"]["cursor"] for b in bodies(emulator) if "cursor" in b["params"]]
    assert cursors and all(c.isdigit() for c in cursors)


def test_history_requests_the_page_size_and_its_credits_add_up(
    client: linkmsg.Client, inbox: Inbox, emulator: LinkupV2Emulator
) -> None:
    conversation = inbox.sorted_conversations()[0]
    first = client.list_messages(conversation, limit=10)
    assert bodies(emulator)[-1] == {
        "account_id": ACCOUNT,
        "action": "get_conversation",
        "params": {"conversation_id": conversation.id, "count": 10},
    }
    assert first.total == 15 and first.credits_used == 1
    rest = client.list_messages(conversation, limit=10, cursor=first.next_cursor)
    assert rest.next_cursor is None
    assert client.credits_used == emulator.credits_consumed == 2


def test_a_vendor_stuck_at_the_boundary_is_an_error_that_counts_its_reads(
    inbox: Inbox, emulator: LinkupV2Emulator
) -> None:
    # A vendor that ignores the cursor and the count: every later page is the first two messages again.
    def stuck(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["action"] == "get_conversation" and "cursor" in body["params"]:
            body["params"] = {k: v for k, v in body["params"].items() if k != "cursor"} | {"count": 2}
            request = httpx.Request(request.method, request.url, headers=request.headers, json=body)
        return emulator(request)

    conversation = one_to_one(inbox)
    with linkmsg.Client(
        "linkup-v2",
        api_key=API_KEY,
        account_id=ACCOUNT,
        base_url="https://emulator.invalid",
        http_transport=httpx.MockTransport(stuck),
    ) as client:
        first = client.list_messages(conversation, limit=2)
        with pytest.raises(linkmsg.PaginationError, match="keeps returning messages") as failed:
            client.list_messages(conversation, limit=2, cursor=first.next_cursor)
        assert failed.value.credits_used == 2  # the page asked for, then the larger re-read
        assert client.credits_used == 1 + 2 == emulator.credits_consumed


def test_unread_filter_and_categories(client: linkmsg.Client, inbox: Inbox, emulator: LinkupV2Emulator) -> None:
    unread = list(client.iter_conversations(unread=True, page_size=2))
    assert [c.id for c in unread] == [c.id for c in inbox.sorted_conversations() if c.unread_count]
    assert {b["params"].get("category") for b in bodies(emulator)} == {"UNREAD"}
    inmail = list(client.iter_conversations(category="INMAIL"))
    assert [c.category for c in inmail] == ["inmail"]


def test_sales_nav_inbox_and_history(client: linkmsg.Client, inbox: Inbox) -> None:
    conversations = list(client.iter_conversations(page_size=3, sales_nav=True))
    expected = inbox.sorted_conversations()
    assert [c.thread_id for c in conversations] == [c.thread_id for c in expected]
    assert all(c.id == f"urn:li:salesNav_thread:{c.thread_id}" for c in conversations)
    lead = conversations[0].participants[0]
    assert lead.id is not None and lead.id.startswith("urn:li:fs_salesProfile:(ACwAA")
    # By id string too: the provider remembers which threads are Sales Navigator's.
    page = client.list_messages(conversations[0].id, limit=5)
    canonical = inbox.messages[expected[0].id][:5]
    assert [m.text for m in page] == [m.text for m in canonical]
    assert [m.outgoing for m in page] == [m.outgoing for m in canonical]
    assert page.next_cursor is None and page.total == 15


def test_a_sales_nav_id_kept_from_another_run_reads_the_sales_nav_history(
    inbox: Inbox, emulator: LinkupV2Emulator
) -> None:
    with make_client(emulator) as first_run:
        stored = next(iter(first_run.iter_conversations(sales_nav=True))).id
    emulator.requests.clear()
    with make_client(emulator) as client:  # knows nothing of Sales Navigator threads yet
        page = client.list_messages(stored, limit=5)
    expected = inbox.messages[inbox.sorted_conversations()[0].id][:5]
    assert [m.text for m in page] == [m.text for m in expected]
    assert [b["params"].get("sales_nav") for b in bodies(emulator)] == [True]


# ---------------------------------------------------------------- send, reply, mark read


def test_send_to_profile_appends_and_reports_credits(
    client: linkmsg.Client, inbox: Inbox, emulator: LinkupV2Emulator
) -> None:
    conversation = one_to_one(inbox)
    person = conversation.participants[0]
    result = client.send_message("Hello from linkup-v2", to=person)
    assert result.conversation_id == conversation.id
    newest = client.list_messages(conversation.id, limit=1).items[0]
    assert (newest.id, newest.text, newest.outgoing) == (result.message_id, "Hello from linkup-v2", True)
    assert newest.sent_at == result.sent_at and result.delivered is True
    assert bodies(emulator)[0]["params"] == {"profile_url": person.profile_url, "message_text": "Hello from linkup-v2"}
    assert result.credits_used == 1 and client.credits_used == emulator.credits_consumed == 2


def test_reply_by_id_resolves_the_participant_with_one_read(
    client: linkmsg.Client, inbox: Inbox, emulator: LinkupV2Emulator
) -> None:
    conversation = one_to_one(inbox)
    result = client.send_message("Replying by id", conversation=conversation.id)
    actions = [b["action"] for b in bodies(emulator)]
    assert actions == ["get_conversation", "send"]
    assert bodies(emulator)[1]["params"]["profile_url"] == conversation.participants[0].profile_url
    assert result.conversation_id == conversation.id and result.credits_used == 2


def test_reply_with_a_conversation_object_needs_no_read(client: linkmsg.Client, emulator: LinkupV2Emulator) -> None:
    conversation = next(c for c in client.iter_conversations() if c.participants)
    emulator.requests.clear()
    client.send_message("Replying with the object", conversation=conversation)
    assert [b["action"] for b in bodies(emulator)] == ["send"]


def test_group_threads_cannot_be_answered(client: linkmsg.Client, inbox: Inbox, emulator: LinkupV2Emulator) -> None:
    group = next(c for c in inbox.conversations if len(c.participants) > 1)
    with pytest.raises(UnsupportedOperation, match="group conversation"):
        client.send_message("Hi all", conversation=group.id)
    with pytest.raises(UnsupportedOperation, match="group conversation"):
        client.send_message("Hi all", conversation=group)  # the canonical object lists everyone
    assert "send" not in [b["action"] for b in bodies(emulator)]


def test_inmail_and_flat_send_answers(inbox: Inbox) -> None:
    emulator = LinkupV2Emulator(inbox, api_key=API_KEY, account_id=ACCOUNT, send_shape="flat")
    person = one_to_one(inbox).participants[0]
    with make_client(emulator) as client:
        flat = client.send_message("Flat answer", to=person, media_url="https://example.com/a.pdf")
        inmail = client.send_message("An InMail", to=person, inmail=True, subject="Hello")
    conversation = one_to_one(inbox)
    # No read happened before: the mailbox is unknown, so the flat answer's ids stay as given.
    assert flat.conversation_id == conversation.thread_id
    assert flat.message_id is not None and flat.message_id.startswith("urn:li:messagingMessage:2-")
    assert flat.credits_used == 2
    assert inmail.conversation_id == f"urn:li:salesNav_thread:{conversation.thread_id}"
    assert inbox.messages[conversation.id][0].kind == MessageKind.INMAIL
    assert bodies(emulator)[1]["params"] == {
        "profile_url": person.profile_url,
        "message_text": "An InMail",
        "inmail": True,
        "subject": "Hello",
    }


def test_mark_read_fetches_one_message(client: linkmsg.Client, inbox: Inbox, emulator: LinkupV2Emulator) -> None:
    conversation = next(c for c in inbox.conversations if c.unread_count)
    client.mark_read(conversation.id)
    assert bodies(emulator)[-1]["params"] == {"conversation_id": conversation.id, "count": 1, "mark_as_read": True}
    assert inbox.conversation(conversation.id).unread_count == 0


def test_a_bare_thread_id_needs_a_known_mailbox(client: linkmsg.Client, inbox: Inbox) -> None:
    conversation = inbox.sorted_conversations()[0]
    assert conversation.thread_id is not None
    with pytest.raises(InvalidArgument, match="full conversation id"):
        client.list_messages(conversation.thread_id)
    client.list_conversations(limit=1)  # learns the mailbox from a conversation id
    assert client.list_messages(conversation.thread_id, limit=3).items[0].conversation_id == conversation.id


# ---------------------------------------------------------------- credentials


def test_wrong_key_and_account_and_no_secret_anywhere(inbox: Inbox) -> None:
    real_looking = "lk_live_5f9c2a7e41d84b0c9e36a1f7d2b8c4e0"
    emulator = LinkupV2Emulator(inbox, api_key="another-key", account_id=ACCOUNT)
    with make_client(emulator, api_key=real_looking) as client:
        with pytest.raises(AuthenticationError, match="check the api_key") as info:
            client.list_conversations()
        texts = [str(info.value), repr(info.value), repr(client), repr(client.provider), str(info.value.vendor_message)]
    assert all(real_looking not in text for text in texts)
    assert info.value.code == "INVALID_API_KEY" and info.value.status == 403
    with (
        make_client(LinkupV2Emulator(inbox, account_id="acc_other")) as client,
        pytest.raises(NotFoundError, match="check the account_id"),
    ):
        client.list_conversations()


def test_settings_are_validated() -> None:
    with pytest.raises(linkmsg.ConfigError, match="account_id"):
        linkmsg.Client("linkup-v2", api_key="k")
    with pytest.raises(linkmsg.ConfigError, match="api_key must not be empty"):
        linkmsg.Client("linkup-v2", api_key=" ", account_id="acc")
    client = linkmsg.Client("linkup-v2", api_key="k", account_id="acc_9")
    assert client.provider.settings.base_url == "https://api.linkupapi.com"
    assert client.provider.settings.account_key() == "acc_9"
    assert linkmsg.Capability.FILTER_KEYWORDS not in client.capabilities
    with pytest.raises(UnsupportedOperation):
        client.list_conversations(keywords="pricing")


# ---------------------------------------------------------------- done when: real HTTP


class _Server:
    """The emulator behind a real HTTP server on 127.0.0.1 (stdlib only)."""

    def __init__(self, emulator: LinkupV2Emulator) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = httpx.Request("POST", outer.url + self.path, headers=dict(self.headers), content=body)
                response = emulator(request)
                payload = response.read()
                self.send_response(response.status_code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def test_done_when_over_real_http(inbox: Inbox, emulator: LinkupV2Emulator) -> None:
    with (
        _Server(emulator) as server,
        linkmsg.Client(provider="linkup-v2", api_key=API_KEY, account_id=ACCOUNT, base_url=server.url) as client,
    ):
        conversations = list(client.iter_conversations(page_size=3))
        assert [c.id for c in conversations] == [c.id for c in inbox.sorted_conversations()]
        for conversation in conversations:
            got = list(client.iter_messages(conversation, page_size=4))
            assert [m.id for m in got] == [m.id for m in inbox.messages[conversation.id]]
        result = client.send_message("Sent over HTTP", conversation=one_to_one(inbox))
        assert result.message_id == inbox.messages[one_to_one(inbox).id][0].id
        assert client.credits_used == emulator.credits_consumed > 0
