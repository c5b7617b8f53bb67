"""Fixtures for the reliability suite: a fake vendor server per test, both clients, a leak collector.

Every test runs against a real HTTP server on 127.0.0.1 (an OS-assigned port)
through the real httpx path. ``api`` is a client facade with one async
interface over both :class:`linkmsg.Client` (``mode="sync"``) and
:class:`linkmsg.AsyncClient` (``mode="async"``), so each scenario is written
once and run in both.

Everything the suite produces that a user could see (every log record of the
``linkmsg`` and ``httpx`` loggers, every exception text and repr a test
caught, every repr of a client or result) goes through :class:`Leaks`; at the
end of the package, none of it, nor any cassette, may contain a secret.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import linkmsg
from linkmsg.errors import LinkmsgError
from linkmsg.memory import Inbox, demo_inbox
from linkmsg.model import Conversation, Message, Page, SendResult
from linkmsg.registry import registry
from linkmsg.testing.server import FakeVendorServer

from .tiny import TinyProvider
from .vendors import FACTORIES, SECRETS, VendorProfile, traces

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
#: Fast retry settings: the whole suite must finish in well under a minute.
FAST = {
    "max_retries": 2,
    "backoff": 0.01,
    "max_backoff": 0.05,
    "timeout": 2.0,
    "connect_timeout": 1.0,
    "deadline": 10.0,
    "max_retry_wait": 2.0,
}


# ---------------------------------------------------------------- leaks


class Leaks:
    """Collects everything user-visible the suite produced, to grep for secrets."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, *objects: object) -> None:
        for obj in objects:
            self.texts.append(repr(obj))
            self.texts.append(str(obj))
            if isinstance(obj, BaseException):
                self.texts.extend(repr(v) for v in vars(obj).values())
                for linked in (obj.__cause__, obj.__context__):
                    if linked is not None:
                        self.add(linked)

    def found(self, secrets: tuple[str, ...] = SECRETS) -> list[str]:
        marks = traces(secrets)
        return [text[:300] for text in self.texts for mark in marks if mark in text]


class _Collect(logging.Handler):
    def __init__(self, leaks: Leaks) -> None:
        super().__init__(logging.DEBUG)
        self.leaks = leaks
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.leaks.texts.append(self.format(record))


def cassette_texts() -> Iterator[tuple[Path, str]]:
    for path in sorted((ROOT / "cassettes").rglob("*")):
        if path.is_file():
            yield path, path.read_text("utf-8", "replace")


@pytest.fixture(scope="package")
def leaks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Leaks]:
    """The package-wide collector; the final sweep runs when the package ends."""
    collected = Leaks()
    handler = _Collect(collected)
    log_file = tmp_path_factory.mktemp("logs") / "reliability.log"
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setLevel(logging.DEBUG)
    # httpcore's trace records name no header or body; linkmsg's and httpx's are the ones a user sees.
    loggers = [logging.getLogger("linkmsg"), logging.getLogger("httpx")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.addHandler(handler)
        lg.addHandler(file_handler)
        lg.propagate = False  # collected here; pytest's own capture of every debug record would only cost time
    try:
        yield collected
    finally:
        for lg, (level, propagate) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.removeHandler(file_handler)
            lg.setLevel(level)
            lg.propagate = propagate
        file_handler.close()
        if os.environ.get("LINKMSG_KEEP_LOG"):  # for a grep by hand: every log line, then every error text
            kept = log_file.read_text("utf-8") + "\n==== exception texts and reprs ====\n" + "\n".join(collected.texts)
            Path(os.environ["LINKMSG_KEEP_LOG"]).write_text(kept, "utf-8")
        logged = log_file.read_text("utf-8", "replace")
        assert handler.records, "the suite logged nothing: the leak sweep would prove nothing"
        problems = collected.found()
        problems += [f"log file: {s[:8]}…" for s in traces() if s in logged]
        problems += [f"{p}: {s[:8]}…" for p, text in cassette_texts() for s in traces() if s in text]
        assert not problems, f"secrets leaked: {problems[:5]}"


@pytest.fixture(autouse=True)
def _leak_collector(leaks: Leaks) -> Leaks:
    return leaks


# ---------------------------------------------------------------- vendors


@pytest.fixture(scope="package", autouse=True)
def _tiny_registered() -> Iterator[None]:
    """The tiny reference vendor, registered for this package only."""
    registry.ensure_loaded()
    providers: dict[str, Any] = registry._providers
    previous = providers.get(TinyProvider.name)
    providers[TinyProvider.name] = (TinyProvider, "tests.reliability", "0")
    yield
    if previous is None:
        providers.pop(TinyProvider.name, None)
    else:
        providers[TinyProvider.name] = previous


#: Ways to drive a client: sync, async on httpx's pool, and async on linkmsg.asynchttp's lean transport.
#: The lean transport runs against the reference vendor only: it is a driver, not a provider, concern.
MODES = ("sync", "async")
LEAN = "async-lean"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Vendor x mode combinations (a test that parametrizes ``mode`` itself keeps its own)."""
    if "vendor" not in metafunc.fixturenames:
        return
    own_mode = any("mode" in m.args[0] for m in metafunc.definition.iter_markers("parametrize"))
    if own_mode or "mode" not in metafunc.fixturenames:
        metafunc.parametrize("vendor", list(FACTORIES), indirect=True)
        return
    combos = [(name, mode) for name in FACTORIES for mode in MODES]
    combos.append((TinyProvider.name, LEAN))
    metafunc.parametrize(("vendor", "mode"), combos, indirect=["vendor"], ids=[f"{v}-{m}" for v, m in combos])


@pytest.fixture
def vendor(request: pytest.FixtureRequest) -> VendorProfile:
    module, factory = FACTORIES[request.param]
    if module is not None:
        pytest.importorskip(module, reason=f"{module} has not landed yet")
    return factory()


@pytest.fixture
def mode() -> str:
    return "sync"


def is_async(mode: str) -> bool:
    return mode != "sync"


@pytest.fixture
def inbox() -> Inbox:
    """7 conversations of 25 messages (3 pages each at sizes 3 and 10)."""
    return demo_inbox(seed=11, conversations=7, messages_per_conversation=25)


@pytest.fixture
def server(vendor: VendorProfile, inbox: Inbox) -> Iterator[FakeVendorServer]:
    with FakeVendorServer(vendor.make_emulator(inbox), endpoint_key=vendor.endpoint_key) as srv:
        yield srv
    assert not srv.errors or all("emulator" not in e for e in srv.errors), srv.errors


# ---------------------------------------------------------------- one interface over both clients


class Api:
    """Both clients behind one awaitable interface; iterations are bounded."""

    def __init__(self, client: linkmsg.Client | linkmsg.AsyncClient, leaks: Leaks) -> None:
        self.client = client
        self.leaks = leaks
        self.is_async = isinstance(client, linkmsg.AsyncClient)

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.client, name)
        result = method(*args, **kwargs)
        if self.is_async:
            result = await result
        self.leaks.add(result)
        return result

    async def list_conversations(self, **kwargs: Any) -> Page[Conversation]:
        return await self._call("list_conversations", **kwargs)  # type: ignore[no-any-return]

    async def list_messages(self, conversation: Conversation | str, **kwargs: Any) -> Page[Message]:
        return await self._call("list_messages", conversation, **kwargs)  # type: ignore[no-any-return]

    async def send(self, text: str, **kwargs: Any) -> SendResult:
        return await self._call("send_message", text, **kwargs)  # type: ignore[no-any-return]

    async def reconcile(self, error: Any, **kwargs: Any) -> Message | None:
        return await self._call("reconcile_send", error, **kwargs)  # type: ignore[no-any-return]

    async def _collect(self, iterator: Any, limit: int) -> list[Any]:
        items: list[Any] = []
        if self.is_async:
            async for item in iterator:
                items.append(item)
                assert len(items) <= limit, "iteration did not end"
        else:
            for item in iterator:
                items.append(item)
                assert len(items) <= limit, "iteration did not end"
        return items

    async def all_conversations(self, page_size: int | None = None, limit: int = 1000) -> list[Conversation]:
        return await self._collect(self.client.iter_conversations(page_size=page_size), limit)

    async def all_messages(
        self, conversation: Conversation | str, page_size: int | None = None, limit: int = 5000
    ) -> list[Message]:
        return await self._collect(self.client.iter_messages(conversation, page_size=page_size), limit)

    def with_options(self, **options: Any) -> Api:
        return Api(self.client.with_options(**options), self.leaks)

    async def close(self) -> None:
        if isinstance(self.client, linkmsg.AsyncClient):
            await self.client.aclose()
        else:
            self.client.close()

    async def expect(self, error: type[LinkmsgError], call: Awaitable[Any]) -> Any:
        """Await ``call``; it must raise ``error`` (and nothing that is not a LinkmsgError)."""
        try:
            result = await call
        except LinkmsgError as exc:
            self.leaks.add(exc)
            assert isinstance(exc, error), f"expected {error.__name__}, got {type(exc).__name__}: {exc}"
            return exc
        raise AssertionError(f"expected {error.__name__}, got a result: {repr(result)[:300]}")


@pytest.fixture
def apis() -> list[Api]:
    return []


@pytest.fixture
def make_api(
    vendor: VendorProfile, server: FakeVendorServer, mode: str, leaks: Leaks, apis: list[Api]
) -> Callable[..., Api]:
    """``make_api(**settings)``: a facade over a new client of ``vendor`` on ``server`` (fast retries)."""

    def make(**overrides: Any) -> Api:
        settings = {**vendor.settings, **FAST, "base_url": server.url + vendor.base_path, **overrides}
        if mode == LEAN:
            from linkmsg.asynchttp import AsyncHTTPTransport

            settings.setdefault("http_transport", AsyncHTTPTransport())
        cls = linkmsg.AsyncClient if is_async(mode) else linkmsg.Client
        client = cls(vendor.name, **settings)
        leaks.add(client)
        api = Api(client, leaks)
        apis.append(api)
        return api

    return make


Drive = Callable[[Callable[[], Awaitable[T]]], T]


@pytest.fixture
def drive(apis: list[Api]) -> Callable[[Callable[[], Awaitable[Any]]], Any]:
    """Run one scenario in a fresh event loop, bounded in time; close its clients in that loop."""

    def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
        async def main() -> Any:
            try:
                return await asyncio.wait_for(scenario(), timeout=30)
            finally:
                for api in apis:
                    await api.close()
                apis.clear()

        return asyncio.run(main())

    return run
