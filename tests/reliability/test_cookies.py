"""Cookies a vendor sets are neither kept nor sent back, by either client.

Requests are built from the provider's auth headers alone; a ``Set-Cookie``
(a load balancer's, a vendor session's) must not ride along on later requests
or pile up in the HTTP client for the client's life.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from linkmsg_connectsafely.emulator import ConnectSafelyEmulator

import linkmsg
from linkmsg.memory import Inbox, demo_inbox
from linkmsg.testing.server import FakeVendorServer, Fault

KEY = "cs_live_cookie_test_00000000000000000"
SET_COOKIE = {"set-cookie": "AWSALB=sticky-0123456789; Path=/; HttpOnly"}


@pytest.fixture(scope="module")
def inbox() -> Inbox:
    return demo_inbox(seed=5, conversations=3, messages_per_conversation=4)


@pytest.fixture
def server(inbox: Inbox) -> Iterator[FakeVendorServer]:
    with FakeVendorServer(ConnectSafelyEmulator(inbox, api_key=KEY)) as srv:
        srv.schedule(Fault(headers=SET_COOKIE, times=100))
        yield srv


def _settings(server: FakeVendorServer) -> dict[str, Any]:
    return {"api_key": KEY, "base_url": server.url, "max_retries": 0}


def _assert_no_cookie_sent(server: FakeVendorServer) -> None:
    records = server.records()
    assert len(records) >= 2, "the vendor answered more than once with its cookie"
    assert all(r.status == 200 for r in records)
    assert [r for r in records if "cookie" in {k.lower() for k in r.headers}] == []


def test_the_sync_client_keeps_and_sends_no_cookie(server: FakeVendorServer, inbox: Inbox) -> None:
    with linkmsg.Client("connectsafely", **_settings(server)) as client:
        list(client.iter_conversations())
        list(client.iter_messages(inbox.conversations[0].id))
        http = client._get_transport().client
        assert len(http.cookies) == 0
    _assert_no_cookie_sent(server)


def test_the_async_client_keeps_and_sends_no_cookie(server: FakeVendorServer, inbox: Inbox) -> None:
    async def read() -> int:
        async with linkmsg.AsyncClient("connectsafely", **_settings(server)) as client:
            [c async for c in client.iter_conversations()]
            [m async for m in client.iter_messages(inbox.conversations[0].id)]
            return len(client._get_transport().client.cookies)

    assert asyncio.run(read()) == 0
    _assert_no_cookie_sent(server)


def test_cookies_cannot_be_set_on_linkmsgs_http_client() -> None:
    from linkmsg.client import _HTTPClient

    with _HTTPClient() as http, pytest.raises(ValueError, match="no cookies"):
        http.cookies = {"session": "x"}
