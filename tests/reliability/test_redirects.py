"""Redirects over real HTTP: followed on the same origin by the loop, through every driver.

ConnectSafely answers its listing and history paths with a 307 to newer
paths; linkmsg follows that itself (not httpx), the same way for the sync
client, the async client and the async client on ``linkmsg.asynchttp``
(which skips httpx's client layer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from linkmsg_connectsafely.emulator import ConnectSafelyEmulator

import linkmsg
from linkmsg.asynchttp import AsyncHTTPTransport
from linkmsg.memory import Inbox, demo_inbox
from linkmsg.testing.server import FakeVendorServer

KEY = "cs_live_redirect_test_0000000000000"


@pytest.fixture(scope="module")
def inbox() -> Inbox:
    return demo_inbox(seed=11, conversations=5, messages_per_conversation=7)


@pytest.fixture
def server(inbox: Inbox) -> Iterator[FakeVendorServer]:
    emulator = ConnectSafelyEmulator(inbox, api_key=KEY, list_shape="redirect", history_shape="redirect")
    with FakeVendorServer(emulator) as srv:
        yield srv


def _settings(server: FakeVendorServer) -> dict[str, Any]:
    return {"api_key": KEY, "base_url": server.url, "max_retries": 0}


def _expected(inbox: Inbox) -> tuple[set[str], set[str]]:
    first = inbox.conversations[0].id
    return {c.id for c in inbox.conversations}, {m.id for m in inbox.messages[first] if m.id}


def _redirected(server: FakeVendorServer) -> bool:
    statuses = [r.status for r in server.records()]
    return 307 in statuses and 200 in statuses


def test_the_sync_client_follows_the_vendors_307s(server: FakeVendorServer, inbox: Inbox) -> None:
    conversations, messages = _expected(inbox)
    with linkmsg.Client("connectsafely", **_settings(server)) as client:
        assert {c.id for c in client.iter_conversations()} == conversations
        assert {m.id for m in client.iter_messages(inbox.conversations[0].id)} == messages
    assert _redirected(server)


@pytest.mark.parametrize("lean", [False, True], ids=["httpx", "asynchttp"])
def test_the_async_client_follows_them_with_either_transport(
    server: FakeVendorServer, inbox: Inbox, lean: bool
) -> None:
    conversations, messages = _expected(inbox)

    async def read() -> tuple[set[str], set[str], bool]:
        transport = AsyncHTTPTransport() if lean else None
        async with linkmsg.AsyncClient("connectsafely", http_transport=transport, **_settings(server)) as client:
            got = {c.id async for c in client.iter_conversations()}
            history = {m.id async for m in client.iter_messages(inbox.conversations[0].id)}
            return got, history, client._get_transport().direct is not None

    got, history, direct = asyncio.run(read())
    assert (got, history) == (conversations, messages)
    assert direct == lean, "a transport the caller passes is driven past httpx's client layer"
    assert _redirected(server)


def test_environment_proxies_keep_the_httpx_client_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")

    async def direct() -> bool:
        async with linkmsg.AsyncClient("connectsafely", api_key=KEY, http_transport=AsyncHTTPTransport()) as client:
            return client._get_transport().direct is not None

    assert asyncio.run(direct()) is False
