"""The fault matrix: every vendor failure mode, every provider, both clients, over real HTTP.

Each test is one fault. It runs for every vendor profile (the tiny reference
vendor and each first-party provider whose emulator has landed) in both the
sync and the async client, against :class:`FakeVendorServer` on 127.0.0.1,
and asserts the outcome a user relies on: the right result after retries,
the requested wait honoured, attempts bounded, exactly one send request when a
send's outcome is ambiguous, the right typed error, nothing lost, nothing twice.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from linkmsg.asynchttp import AsyncHTTPTransport
from linkmsg.errors import (
    AuthenticationError,
    LinkmsgError,
    NotFoundError,
    PaginationError,
    ProviderError,
    RateLimitError,
    ResponseShapeError,
    SendOutcomeUnknown,
    ServerError,
    TransportError,
)
from linkmsg.memory import Inbox
from linkmsg.model import Capability, Conversation
from linkmsg.testing.server import FakeVendorServer, Fault

from .conftest import FAST, LEAN, Api, is_async
from .vendors import VendorProfile, Wire

Drive = Callable[[Callable[[], Any]], Any]
MakeApi = Callable[..., Api]
HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
ATTEMPTS = FAST["max_retries"] + 1


# ---------------------------------------------------------------- helpers


def expected_conversation_ids(inbox: Inbox) -> list[str]:
    return [c.id for c in inbox.sorted_conversations()]


def thread(inbox: Inbox) -> Conversation:
    """A one-to-one conversation to read and send into."""
    return next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)


def expected_message_ids(inbox: Inbox, conversation: Conversation) -> list[str | None]:
    return [m.id for m in inbox.messages[conversation.id]]


def reads(vendor: VendorProfile, server: FakeVendorServer) -> int:
    return vendor.count(server.records(), lambda w: not vendor.is_send(w))


def sends(vendor: VendorProfile, server: FakeVendorServer) -> int:
    return vendor.count(server.records(), vendor.is_send)


def rate_limit_body(vendor: VendorProfile, hold: datetime | None) -> Any:
    """The vendor's 429 body; with ``hold`` its ``holdUntil`` (if it has one) says when, else it is removed."""
    body = dict(vendor.rate_limit_body)
    if "holdUntil" in body:
        if hold is None:
            del body["holdUntil"]
        else:
            body["holdUntil"] = hold.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return body


def send_kwargs(api: Api, conversation: Conversation) -> dict[str, Any]:
    """Send into ``conversation``: by profile when the vendor can (reconcile must then find the thread)."""
    if Capability.SEND_TO_PROFILE in api.client.capabilities:
        urn = conversation.participants[0].urn
        assert urn is not None
        return {"to": urn}
    return {"conversation": conversation.id}


def only_sends(vendor: VendorProfile) -> Callable[[httpx.Request], bool]:
    return vendor.when(vendor.is_send)


def the_list(vendor: VendorProfile) -> Callable[[httpx.Request], bool]:
    return vendor.when(vendor.is_conversation_list)


# ---------------------------------------------------------------- baseline


def test_clean_run_reads_the_whole_inbox(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive, inbox: Inbox
) -> None:
    async def scenario() -> None:
        api = make_api()
        conversations = await api.all_conversations(page_size=vendor.conversation_page)
        assert [c.id for c in conversations] == expected_conversation_ids(inbox)
        conv = thread(inbox)
        messages = await api.all_messages(conv.id, page_size=vendor.message_page)
        assert [m.id for m in messages] == expected_message_ids(inbox, conv)

    drive(scenario)
    assert server.count() >= 3


# ---------------------------------------------------------------- reads: retried to success


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(status=503, times=2), id="503x2"),
        pytest.param(Fault(status=500, times=1), id="500"),
        pytest.param(Fault(status=502, body=HTML, headers={"content-type": "text/html"}, times=2), id="html-502"),
        pytest.param(Fault(status=200, body=HTML, headers={"content-type": "text/html"}), id="html-200"),
        pytest.param(Fault(status=408), id="408"),
        pytest.param(Fault(truncate=True), id="truncated-json"),
        pytest.param(Fault(cut=True), id="cut-mid-body"),
        pytest.param(Fault(drop="before_body"), id="dropped-before-body"),
        pytest.param(Fault(drop="after_body", times=2), id="dropped-after-body"),
        pytest.param(Fault(status=429), id="429-no-hint"),
    ],
)
def test_transient_read_failures_are_retried_to_the_right_result(
    vendor: VendorProfile,
    server: FakeVendorServer,
    make_api: MakeApi,
    drive: Drive,
    inbox: Inbox,
    fault: Fault,
) -> None:
    if fault.status is not None and fault.body is None:
        body = rate_limit_body(vendor, None) if fault.status == 429 else vendor.server_error_body
        fault = Fault(status=fault.status, json=body, times=fault.times)
    server.schedule(fault)

    async def scenario() -> None:
        page = await make_api().list_conversations(limit=vendor.conversation_page)
        assert [c.id for c in page.items] == expected_conversation_ids(inbox)[: vendor.conversation_page]

    drive(scenario)
    assert server.count() == fault.times + 1
    assert not server.pending_faults


def test_a_slow_answer_times_out_and_is_retried(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive, inbox: Inbox
) -> None:
    server.schedule(Fault(delay=1.0))

    async def scenario() -> float:
        api = make_api(timeout=0.15)
        started = time.monotonic()
        page = await api.list_conversations(limit=vendor.conversation_page)
        assert [c.id for c in page.items] == expected_conversation_ids(inbox)[: vendor.conversation_page]
        return time.monotonic() - started

    elapsed = drive(scenario)
    assert 0.15 <= elapsed < 1.0, "the read timeout was not applied"
    assert server.count() == 2


# ---------------------------------------------------------------- reads: bounded failure


def test_a_persistent_5xx_gives_up_after_max_retries(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive
) -> None:
    server.schedule(Fault(status=503, json=vendor.server_error_body, times=50))

    async def scenario() -> None:
        api = make_api()
        error = await api.expect(ServerError, api.list_conversations())
        assert error.status == 503
        assert "gave up after 3 attempts" in str(error)

    drive(scenario)
    assert server.count() == ATTEMPTS


def test_per_call_options_override_the_client(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive, inbox: Inbox
) -> None:
    server.schedule(Fault(status=503, json=vendor.server_error_body, times=50))

    async def scenario() -> None:
        api = make_api()
        once = api.with_options(max_retries=0)
        await once.expect(ServerError, once.list_conversations())
        assert server.count() == 1
        five = api.with_options(max_retries=4)
        await five.expect(ServerError, five.list_conversations())
        assert server.count() == 1 + 5
        server.clear_faults()
        page = await api.list_conversations(limit=vendor.conversation_page)  # the original is unchanged
        assert [c.id for c in page.items] == expected_conversation_ids(inbox)[: vendor.conversation_page]

    drive(scenario)


def test_the_deadline_bounds_a_call(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive
) -> None:
    server.schedule(Fault(status=503, json=vendor.server_error_body, times=500))

    async def scenario() -> float:
        api = make_api(max_retries=1000, backoff=0.05, max_backoff=0.05, deadline=0.2)
        started = time.monotonic()
        await api.expect(ServerError, api.list_conversations())
        return time.monotonic() - started

    elapsed = drive(scenario)
    assert elapsed < 0.8
    assert 3 <= server.count() < 30


def test_a_persistently_slow_vendor_gives_up(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive
) -> None:
    server.schedule(Fault(delay=2.0, times=10))

    async def scenario() -> float:
        api = make_api(timeout=0.12, max_retries=1)
        started = time.monotonic()
        error = await api.expect(TransportError, api.list_conversations())
        assert "timed out" in str(error)
        return time.monotonic() - started

    elapsed = drive(scenario)
    assert elapsed < 1.5
    assert server.count() == 2


def test_connection_refused_is_retried_then_reported(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive
) -> None:
    url = server.url
    server.stop()  # nothing listens on that port any more

    async def scenario() -> float:
        api = make_api(base_url=url + vendor.base_path)
        started = time.monotonic()
        await api.expect(TransportError, api.list_conversations())
        return time.monotonic() - started

    assert drive(scenario) < 2.0


# ---------------------------------------------------------------- reads: rate limits and waits


def _timed_list(api: Api, vendor: VendorProfile) -> Callable[[], Any]:
    async def call() -> float:
        started = time.monotonic()
        await api.list_conversations(limit=vendor.conversation_page)
        return time.monotonic() - started

    return call


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Retry-After": "0.12"}, id="retry-after-seconds"),
        pytest.param({"Retry-After-Ms": "120"}, id="retry-after-ms"),
        pytest.param({"X-RateLimit-Reset": "0.12"}, id="x-ratelimit-reset"),
    ],
)
def test_a_429_wait_is_honoured(
    vendor: VendorProfile,
    server: FakeVendorServer,
    make_api: MakeApi,
    drive: Drive,
    headers: dict[str, str],
) -> None:
    server.schedule(Fault(status=429, headers=headers, json=rate_limit_body(vendor, None)))
    elapsed = drive(lambda: _timed_list(make_api(), vendor)())
    assert 0.12 <= elapsed < 1.0
    assert server.count() == 2


def test_a_429_retry_after_http_date_is_honoured(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive
) -> None:
    # HTTP dates have whole seconds: a date in the past means "now", and must parse as such.
    past = email.utils.format_datetime(datetime.now(UTC) - timedelta(seconds=5), usegmt=True)
    server.schedule(Fault(status=429, headers={"Retry-After": past}, json=rate_limit_body(vendor, None), times=2))
    elapsed = drive(lambda: _timed_list(make_api(), vendor)())
    assert elapsed < 1.0
    assert server.count() == 3


def test_a_429_hold_until_in_the_body_is_honoured(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive
) -> None:
    if "holdUntil" not in vendor.rate_limit_body:
        pytest.skip(f"{vendor.name} documents no holdUntil")
    hold = datetime.now(UTC) + timedelta(seconds=0.25)
    server.schedule(Fault(status=429, json=rate_limit_body(vendor, hold)))
    elapsed = drive(lambda: _timed_list(make_api(), vendor)())
    assert 0.15 <= elapsed < 1.2
    assert server.count() == 2


@pytest.mark.parametrize(
    "headers", [{"Retry-After": "3600"}, {"Retry-After-Ms": "3600000"}], ids=["seconds", "milliseconds"]
)
def test_a_wait_beyond_the_cap_raises_instead_of_sleeping(
    vendor: VendorProfile,
    server: FakeVendorServer,
    make_api: MakeApi,
    drive: Drive,
    headers: dict[str, str],
) -> None:
    server.schedule(Fault(status=429, headers=headers, json=rate_limit_body(vendor, None), times=5))

    async def scenario() -> float:
        api = make_api()
        started = time.monotonic()
        error = await api.expect(RateLimitError, api.list_conversations())
        assert error.retry_after == pytest.approx(3600, abs=5)
        return time.monotonic() - started

    assert drive(scenario) < 0.5
    assert server.count() == 1


def test_a_503_asking_for_too_long_a_wait_raises_rate_limit_error(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive
) -> None:
    server.schedule(Fault(status=503, headers={"Retry-After": "600"}, json=vendor.server_error_body, times=5))

    async def scenario() -> None:
        api = make_api()
        error = await api.expect(RateLimitError, api.list_conversations())
        assert error.status == 503 and error.retry_after == pytest.approx(600, abs=5)

    drive(scenario)
    assert server.count() == 1


# ---------------------------------------------------------------- reads: never retried


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ProviderError), (401, AuthenticationError), (403, AuthenticationError), (404, NotFoundError)],
)
@pytest.mark.parametrize("html", [False, True], ids=["json", "html"])
def test_client_errors_are_never_retried(
    vendor: VendorProfile,
    server: FakeVendorServer,
    make_api: MakeApi,
    drive: Drive,
    status: int,
    error: type[LinkmsgError],
    html: bool,
) -> None:
    if html:
        server.schedule(Fault(status=status, body=HTML, headers={"content-type": "text/html"}, times=5))
    else:
        server.schedule(Fault(status=status, json={"error": "nope", "message": "nope"}, times=5))

    async def scenario() -> None:
        api = make_api()
        raised = await api.expect(error, api.list_conversations())
        assert isinstance(raised, ProviderError) and raised.status == status and not raised.retryable

    drive(scenario)
    assert server.count() == 1


def test_a_failure_envelope_in_a_200_is_a_typed_error(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive
) -> None:
    server.schedule(Fault(status=200, json=vendor.envelope_200, times=10))

    async def scenario() -> ProviderError:
        api = make_api()
        raised: ProviderError = await api.expect(vendor.envelope_error, api.list_conversations())
        return raised

    raised = drive(scenario)
    assert server.count() == (ATTEMPTS if raised.retryable else 1)


# ---------------------------------------------------------------- reads: paging faults


def test_a_cursor_that_does_not_advance_stops_with_an_error(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive
) -> None:
    server.schedule(Fault(when=the_list(vendor), after=1, repeat_cursor=True, times=20))

    async def scenario() -> None:
        api = make_api()
        await api.expect(PaginationError, api.all_conversations(page_size=vendor.conversation_page))

    drive(scenario)
    assert server.count() <= 6


def test_a_message_cursor_that_does_not_advance_stops_with_an_error(
    vendor: VendorProfile,
    server: FakeVendorServer,
    make_api: MakeApi,
    drive: Drive,
    inbox: Inbox,
) -> None:
    server.schedule(Fault(when=vendor.when(vendor.is_message_list), after=1, repeat_cursor=True, times=20))

    async def scenario() -> None:
        api = make_api()
        await api.expect(PaginationError, api.all_messages(thread(inbox).id, page_size=vendor.message_page))

    drive(scenario)
    assert server.count() <= 8


def test_items_repeated_across_pages_are_yielded_once(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive, inbox: Inbox
) -> None:
    server.schedule(
        Fault(when=the_list(vendor), after=1, repeat_items=2, times=20),
        Fault(when=vendor.when(vendor.is_message_list), after=1, repeat_items=3, times=20),
    )
    conv = thread(inbox)

    async def scenario() -> None:
        api = make_api()
        conversations = await api.all_conversations(page_size=vendor.conversation_page)
        assert [c.id for c in conversations] == expected_conversation_ids(inbox)
        messages = await api.all_messages(conv.id, page_size=vendor.message_page)
        assert [m.id for m in messages] == expected_message_ids(inbox, conv)

    drive(scenario)


def _drop_key(key: str) -> Callable[[Any], Any]:
    def drop(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop(v) for k, v in value.items() if k != key}
        if isinstance(value, list):
            return [drop(v) for v in value]
        return value

    return drop


def _add_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {**{k: _add_keys(v) for k, v in value.items()}, "zzNewVendorField": {"nested": [1, None, "x"]}}
    if isinstance(value, list):
        return [_add_keys(v) for v in value]
    return value


def test_a_vanished_required_field_is_a_shape_error_naming_it(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive, inbox: Inbox
) -> None:
    server.schedule(Fault(when=vendor.when(vendor.is_message_list), drift=_drop_key(vendor.required_message_key)))

    async def scenario() -> None:
        api = make_api()
        error = await api.expect(ResponseShapeError, api.list_messages(thread(inbox).id, limit=vendor.message_page))
        key = vendor.required_message_key
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
        # linkmsg.payload reports the attribute name of a renamed field (sent_at for sentAt).
        assert key in error.path or snake in error.path, error.path

    drive(scenario)
    assert server.count() == 1, "a shape error is not transient: it must not be retried"


def test_unknown_extra_fields_are_tolerated(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive, inbox: Inbox
) -> None:
    server.schedule(Fault(drift=_add_keys, times=1000))
    conv = thread(inbox)

    async def scenario() -> None:
        api = make_api()
        conversations = await api.all_conversations(page_size=vendor.conversation_page)
        assert [c.id for c in conversations] == expected_conversation_ids(inbox)
        messages = await api.all_messages(conv.id, page_size=vendor.message_page)
        assert [m.id for m in messages] == expected_message_ids(inbox, conv)

    drive(scenario)


# ---------------------------------------------------------------- sends


def _landed(inbox: Inbox, conversation: Conversation, text: str) -> int:
    return sum(1 for m in inbox.messages[conversation.id] if m.text == text)


@pytest.mark.parametrize(
    ("make_fault", "landed"),
    [
        pytest.param(lambda when: Fault(when=when, delay=1.5), True, id="timeout-after-sending"),
        pytest.param(lambda when: Fault(when=when, drop="after_body"), True, id="reset-after-processing"),
        pytest.param(lambda when: Fault(when=when, drop="before_body"), False, id="reset-before-processing"),
        pytest.param(lambda when: Fault(when=when, status=503, json={"error": "down"}), False, id="503-not-processed"),
        pytest.param(
            lambda when: Fault(when=when, status=500, json={"error": "x"}, call_emulator=True), True, id="500-processed"
        ),
        pytest.param(
            lambda when: Fault(when=when, status=502, body=HTML, headers={"content-type": "text/html"}),
            False,
            id="html-502",
        ),
        pytest.param(lambda when: Fault(when=when, truncate=True), True, id="truncated-200"),
        pytest.param(lambda when: Fault(when=when, cut=True), True, id="cut-200"),
        pytest.param(lambda when: Fault(when=when, status=200, body=HTML, call_emulator=True), True, id="html-200"),
    ],
)
def test_an_ambiguous_send_is_never_retried_and_can_be_reconciled(
    vendor: VendorProfile,
    server: FakeVendorServer,
    make_api: MakeApi,
    drive: Drive,
    inbox: Inbox,
    make_fault: Callable[[Callable[[httpx.Request], bool]], Fault],
    landed: bool,
) -> None:
    conv = thread(inbox)
    text = f"Following up on our call ({vendor.name}) ✅"
    server.schedule(make_fault(only_sends(vendor)))

    async def scenario() -> None:
        api = make_api(timeout=0.2)
        error = await api.expect(SendOutcomeUnknown, api.send(text, **send_kwargs(api, conv)))
        assert error.text == text and error.provider == vendor.name
        assert isinstance(error.attempted_at, datetime)
        assert sends(vendor, server) == 1, "an ambiguous send must go out exactly once"
        found = await api.reconcile(error)
        if landed:
            assert found is not None and found.text == text
        else:
            assert found is None

    drive(scenario)
    assert sends(vendor, server) == 1
    assert _landed(inbox, conv, text) == (1 if landed else 0)


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RateLimitError), (400, ProviderError), (401, AuthenticationError), (404, NotFoundError)],
)
def test_a_rejected_send_raises_its_error_without_a_retry(
    vendor: VendorProfile,
    server: FakeVendorServer,
    make_api: MakeApi,
    drive: Drive,
    inbox: Inbox,
    status: int,
    error: type[LinkmsgError],
) -> None:
    conv = thread(inbox)
    body = rate_limit_body(vendor, None) if status == 429 else {"error": "rejected", "message": "rejected"}
    server.schedule(Fault(when=only_sends(vendor), status=status, json=body, headers={"Retry-After": "1"}, times=5))

    async def scenario() -> None:
        api = make_api()
        await api.expect(error, api.send("hello there", **send_kwargs(api, conv)))

    drive(scenario)
    assert sends(vendor, server) == 1
    assert _landed(inbox, conv, "hello there") == 0


class _RefuseFirst:
    """Wraps an httpx transport: the first ``refusals`` sends fail to connect (they provably never left)."""

    def __init__(self, inner: Any, vendor: VendorProfile, refusals: int = 1) -> None:
        self.inner, self.vendor, self.refusals = inner, vendor, refusals

    def _refuse(self, request: httpx.Request) -> bool:
        if self.refusals and self.vendor.is_send(Wire.of(request)):
            self.refusals -= 1
            return True
        return False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._refuse(request):
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.inner.handle_request(request)  # type: ignore[no-any-return]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._refuse(request):
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return await self.inner.handle_async_request(request)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_send_that_provably_never_left_is_retried(
    vendor: VendorProfile,
    server: FakeVendorServer,
    make_api: MakeApi,
    drive: Drive,
    inbox: Inbox,
    mode: str,
) -> None:
    conv = thread(inbox)
    inner: Any = httpx.HTTPTransport()
    if mode == LEAN:
        inner = AsyncHTTPTransport()
    elif is_async(mode):
        inner = httpx.AsyncHTTPTransport()
    transport = _RefuseFirst(inner, vendor, refusals=2)

    async def scenario() -> None:
        api = make_api(http_transport=transport)
        result = await api.send("sent once", **send_kwargs(api, conv))
        assert result.conversation_id in (None, conv.id)  # a send by profile may not say where it went

    drive(scenario)
    assert transport.refusals == 0
    assert sends(vendor, server) == 1
    assert _landed(inbox, conv, "sent once") == 1


def test_a_clean_send_lands_once(
    vendor: VendorProfile, server: FakeVendorServer, make_api: MakeApi, drive: Drive, inbox: Inbox
) -> None:
    conv = thread(inbox)

    async def scenario() -> None:
        api = make_api()
        await api.send("plain send", **send_kwargs(api, conv))

    drive(scenario)
    assert sends(vendor, server) == 1
    assert _landed(inbox, conv, "plain send") == 1
