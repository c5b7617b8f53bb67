"""Client-side rate limit, concurrency bound, per-call options, timeouts, logging set-up, memory provider."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

import linkmsg
from linkmsg.errors import ConfigError, InvalidArgument, RateLimitError, SendOutcomeUnknown, ServerError
from linkmsg.memory import Inbox, demo_inbox
from linkmsg.provider import HTTPSettings
from linkmsg.testing.server import FakeVendorServer, Fault
from linkmsg.transport import Attempt

from .conftest import FAST, Leaks
from .tiny import TinyEmulator
from .vendors import API_KEY, LOGIN_TOKEN, SECRETS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def inbox() -> Inbox:
    return demo_inbox(seed=5, conversations=4, messages_per_conversation=6)


@pytest.fixture
def tiny(inbox: Inbox) -> Iterator[FakeVendorServer]:
    with FakeVendorServer(TinyEmulator(inbox, api_key=API_KEY, login_token=LOGIN_TOKEN)) as srv:
        yield srv


def settings(server: FakeVendorServer, **extra: Any) -> dict[str, Any]:
    return {"api_key": API_KEY, "login_token": LOGIN_TOKEN, "base_url": server.url, **FAST, **extra}


# ---------------------------------------------------------------- client-side rate limit


def test_the_rate_limit_is_shared_by_sync_and_async_clients_of_one_account(tiny: FakeVendorServer) -> None:
    options = settings(tiny, rate_limit="4/1s")
    started = time.monotonic()
    with linkmsg.Client("tiny", **options) as sync_client:
        for _ in range(3):
            sync_client.list_conversations(limit=2)

    async def more() -> None:
        async with linkmsg.AsyncClient("tiny", **options) as async_client:
            await asyncio.gather(*(async_client.list_conversations(limit=2) for _ in range(3)))

    asyncio.run(more())
    elapsed = time.monotonic() - started
    assert tiny.count() == 6
    assert 0.95 <= elapsed < 2.5, "the 5th and 6th requests must wait for the first to leave the 1 s window"
    starts = sorted(r.started for r in tiny.records())
    assert starts[4] - starts[0] >= 0.95


def test_another_account_has_its_own_rate_limit(tiny: FakeVendorServer) -> None:
    started = time.monotonic()
    for key in ("sk_live_account_one_000000000000", "sk_live_account_two_000000000000"):
        with linkmsg.Client("tiny", **settings(tiny, api_key=key, rate_limit="2/5s")) as client:
            for _ in range(2):
                with pytest.raises(linkmsg.AuthenticationError):  # the emulator knows only API_KEY
                    client.list_conversations()
    assert time.monotonic() - started < 1.0


def test_a_rate_limit_wait_longer_than_the_cap_raises(tiny: FakeVendorServer) -> None:
    with linkmsg.Client("tiny", **settings(tiny, rate_limit="1/hour", max_retry_wait=1.0)) as client:
        client.list_conversations()
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            client.list_conversations()
    assert time.monotonic() - started < 0.5
    assert info.value.retry_after is not None and info.value.retry_after > 3500
    assert "rate_limit" in str(info.value)


def test_a_bad_rate_limit_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="rate_limit"):
        linkmsg.Client("tiny", api_key=API_KEY, login_token=LOGIN_TOKEN, rate_limit="lots")


# ---------------------------------------------------------------- concurrency


def test_the_async_client_bounds_requests_in_flight(tiny: FakeVendorServer) -> None:
    tiny.schedule(Fault(delay=0.15, times=6))

    async def burst() -> float:
        async with linkmsg.AsyncClient("tiny", **settings(tiny, max_concurrency=2)) as client:
            fast = client.with_options(max_retries=0)  # a copy shares the bound
            started = time.monotonic()
            calls = [client.list_conversations(limit=2) for _ in range(3)]
            calls += [fast.list_conversations(limit=2) for _ in range(3)]
            await asyncio.gather(*calls)
            return time.monotonic() - started

    elapsed = asyncio.run(burst())
    assert tiny.max_in_flight == 2
    assert elapsed >= 0.45


def test_a_request_holds_its_slot_through_the_rate_limit_wait_and_frees_it_when_cancelled(
    tiny: FakeVendorServer,
) -> None:
    async def run() -> tuple[float, float]:
        async with linkmsg.AsyncClient("tiny", **settings(tiny, max_concurrency=1, rate_limit="1/1s")) as client:
            await client.list_conversations(limit=2)
            waiting = asyncio.ensure_future(client.list_conversations(limit=2))
            await asyncio.sleep(0.1)
            assert client._get_transport().semaphore.locked(), "the waiting request holds the only slot"
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert not client._get_transport().semaphore.locked(), "a cancelled wait gives its slot back"
            started = time.monotonic()
            await asyncio.wait_for(client.list_conversations(limit=2), timeout=5)
            return started, time.monotonic()

    started, ended = asyncio.run(run())
    assert tiny.count() == 2
    assert ended - started >= 0.8, "the cancelled request's reservation still counted against the limit"


def _spy_on_request_building(
    monkeypatch: pytest.MonkeyPatch, client: linkmsg.AsyncClient, events: list[str], fail_first: bool = False
) -> None:
    """Record "build" when the provider starts building a listing request (optionally raising the first time)."""
    provider = type(client.provider)
    original = provider.list_conversations

    def spied(self: Any, **kwargs: Any) -> Any:
        def operation() -> Any:
            events.append("build")
            if fail_first and events.count("build") == 1:
                raise InvalidArgument("refused while building the request")
            return (yield from original(self, **kwargs))

        return operation()

    monkeypatch.setattr(provider, "list_conversations", spied)


def test_a_queued_call_builds_its_request_only_once_it_has_a_slot(
    tiny: FakeVendorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hundreds of queued calls building requests ahead of the ones holding slots would delay those.
    tiny.schedule(Fault(delay=0.3, times=1))
    events: list[str] = []

    async def run() -> None:
        async with linkmsg.AsyncClient("tiny", **settings(tiny, max_concurrency=1)) as client:
            _spy_on_request_building(monkeypatch, client, events)
            first = asyncio.ensure_future(client.list_conversations(limit=2))
            queued = [asyncio.ensure_future(client.list_conversations(limit=2)) for _ in range(3)]
            await asyncio.sleep(0.15)
            assert events == ["build"], "queued calls wait for a slot before building anything"
            await asyncio.gather(first, *queued)

    asyncio.run(run())
    assert events == ["build"] * 4
    assert tiny.count() == 4 and tiny.max_in_flight == 1


def test_a_call_that_fails_while_building_its_request_gives_its_slot_back(
    tiny: FakeVendorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []

    async def run() -> None:
        async with linkmsg.AsyncClient("tiny", **settings(tiny, max_concurrency=1)) as client:
            _spy_on_request_building(monkeypatch, client, events, fail_first=True)
            with pytest.raises(InvalidArgument, match="refused while building"):
                await client.list_conversations(limit=2)
            assert not client._get_transport().semaphore.locked()
            page = await asyncio.wait_for(client.list_conversations(limit=2), timeout=5)
            assert page.items

    asyncio.run(run())
    assert tiny.count() == 1


# ---------------------------------------------------------------- per-call options


def test_with_options_shares_the_pool_and_leaves_the_original_alone(tiny: FakeVendorServer) -> None:
    client = linkmsg.Client("tiny", **settings(tiny))
    copy = client.with_options(max_retries=0, timeout=1.5, deadline=3)
    assert copy._pool is client._pool
    copy.list_conversations()
    client.list_conversations()
    assert copy._get_transport().client is client._get_transport().client
    assert copy._get_transport().settings.max_retries == 0 and copy._get_transport().settings.timeout == 1.5
    assert client._get_transport().settings.max_retries == FAST["max_retries"]
    copy.close()  # a copy does not own the pool
    client.list_conversations()
    assert client._pool.http is not None
    client.close()
    assert client._pool.http is None


def test_with_options_stacks(tiny: FakeVendorServer) -> None:
    tiny.schedule(Fault(status=503, json={"error": "x"}, times=10))
    with linkmsg.Client("tiny", **settings(tiny)) as client:
        deeper = client.with_options(max_retries=5).with_options(backoff=0)
        with pytest.raises(ServerError):
            deeper.list_conversations()
    assert tiny.count() == 6


@pytest.mark.parametrize(
    "options",
    [{"retries": 1}, {"base_url": "http://elsewhere"}, {"max_retries": -1}, {"timeout": 0}, {"deadline": "soon"}],
)
def test_with_options_rejects_what_it_cannot_use(tiny: FakeVendorServer, options: dict[str, object]) -> None:
    with linkmsg.Client("tiny", **settings(tiny)) as client, pytest.raises(InvalidArgument):
        client.with_options(**options)


def test_with_options_on_the_memory_provider_is_harmless() -> None:
    with linkmsg.Client("memory") as client:
        assert len(client.with_options(max_retries=0, timeout=1).list_conversations(limit=2)) == 2


# ---------------------------------------------------------------- timeouts


def test_default_timeouts_and_retry_settings_are_the_documented_ones() -> None:
    defaults = {f.name: f.default for f in attrs.fields(HTTPSettings) if f.name != "base_url"}
    assert defaults == {
        "timeout": 30.0,
        "connect_timeout": 5.0,
        "max_retries": 2,
        "backoff": 0.5,
        "max_backoff": 8.0,
        "max_retry_wait": 60.0,
        "deadline": 120.0,
        "rate_limit": None,
        "max_concurrency": 16,
    }
    doc = HTTPSettings.__doc__ or ""
    for text in (
        "connect_timeout=5",
        "timeout=30",
        "max_retries=2",
        "max_backoff=8",
        "max_retry_wait=60",
        "deadline=120",
    ):
        assert text in doc


def test_the_connect_timeout_is_short_and_separate(tiny: FakeVendorServer) -> None:
    with linkmsg.Client("tiny", **settings(tiny, timeout=9.0, connect_timeout=0.7)) as client:
        transport = client._get_transport()
        step = next(transport.loop().run(linkmsg.provider.Request("GET", "/conversations")))
    assert isinstance(step, Attempt)
    assert (step.timeout.connect, step.timeout.read, step.timeout.write) == (0.7, 9.0, 9.0)


# ---------------------------------------------------------------- memory provider


def test_reconcile_on_the_memory_provider(leaks: Leaks) -> None:
    inbox = demo_inbox(seed=3, conversations=3, messages_per_conversation=4)
    conversation = next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)
    urn = conversation.participants[0].urn
    assert urn is not None
    with linkmsg.Client("memory", inbox=inbox) as client:
        attempted = datetime.now(UTC)
        client.send_message("did it land?", to=urn)
        by_profile = SendOutcomeUnknown("x", provider="memory", text="did it land?", to=urn, attempted_at=attempted)
        by_thread = SendOutcomeUnknown(
            "x", provider="memory", text="did it land?", conversation_id=conversation.id, attempted_at=attempted
        )
        never = SendOutcomeUnknown("x", provider="memory", text="never sent", to=urn, attempted_at=attempted)
        found = client.reconcile_send(by_profile)
        assert found is not None and found.text == "did it land?"
        assert client.reconcile_send(by_thread) == found
        assert client.reconcile_send(never) is None
        with pytest.raises(InvalidArgument):
            client.reconcile_send(SendOutcomeUnknown("x", provider="memory", text="t"))
        leaks.add(found, by_profile)


# ---------------------------------------------------------------- LINKMSG_LOG


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "LINKMSG_LOG"}
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env={**clean, **env}, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


SHOW_HANDLERS = """
import json, logging, linkmsg.transport
lm = logging.getLogger("linkmsg")
print(json.dumps({"root": len(logging.getLogger().handlers), "linkmsg": [type(h).__name__ for h in lm.handlers],
                  "level": lm.level}))
"""


def test_the_library_stays_silent_and_leaves_the_root_logger_alone() -> None:
    result = _python(SHOW_HANDLERS)
    assert json.loads(result.stdout) == {"root": 0, "linkmsg": ["NullHandler"], "level": 0}


def test_linkmsg_log_debug_attaches_one_handler_to_the_linkmsg_logger_only() -> None:
    result = _python(SHOW_HANDLERS, LINKMSG_LOG="debug")
    assert json.loads(result.stdout) == {"root": 0, "linkmsg": ["StreamHandler"], "level": 10}


DEBUG_RUN = f"""
import httpx, linkmsg
from linkmsg.memory import demo_inbox
from linkmsg.registry import registry
from tests.reliability.tiny import TinyEmulator, TinyProvider
registry.ensure_loaded()
registry._providers["tiny"] = (TinyProvider, "tests", "0")
emulator = TinyEmulator(demo_inbox(seed=2, conversations=2, messages_per_conversation=3), api_key={API_KEY!r})
calls = []
def flaky(request):
    calls.append(1)
    if len(calls) == 1:
        return httpx.Response(503, json={{"error": "echo {LOGIN_TOKEN}"}})
    if request.method == "POST":
        return httpx.Response(400, json={{"error": {{"message": "bad token {LOGIN_TOKEN}"}}}})
    return emulator(request)
client = linkmsg.Client("tiny", api_key={API_KEY!r}, login_token={LOGIN_TOKEN!r}, base_url="https://tiny.invalid",
                        backoff=0, http_transport=httpx.MockTransport(flaky))
conversation = client.list_conversations(limit=1).items[0]
try:
    client.send_message("hi", conversation=conversation)
except linkmsg.ProviderError as error:
    print("ERROR", error, repr(error))
"""


def test_linkmsg_log_debug_logs_requests_and_retries_without_secrets() -> None:
    result = _python(DEBUG_RUN, LINKMSG_LOG="debug")
    assert result.returncode == 0, result.stderr
    assert "request GET /conversations" in result.stderr and "retrying in" in result.stderr
    assert "request POST /messages" in result.stderr and "authorization" in result.stderr
    assert "ERROR" in result.stdout
    for secret in SECRETS:
        assert secret not in result.stderr and secret not in result.stdout
