"""The login token travels only inside the JSON bodies sent to LinkupAPI; the API key only in x-api-key."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from linkmsg_linkup.emulator import LinkupEmulator

import linkmsg
from linkmsg.errors import LinkmsgError, ProviderError
from linkmsg.memory import demo_inbox
from linkmsg.provider import HTTPSettings

API_KEY = "lk_live_5b8e0c2f9d7a4e1b8c3f6a0d2e9b7c4f"
LOGIN_TOKEN = "AQEDATd8Hj2kAAABlmNq3ZQAAAGWj4dhlE4AwQ7tX1zV9pK2sRfL0yUe"


def _client(transport: httpx.MockTransport, **settings: Any) -> linkmsg.Client:
    return linkmsg.Client(
        "linkup",
        api_key=API_KEY,
        login_token=LOGIN_TOKEN,
        base_url="https://api.linkupapi.com",
        http_transport=transport,
        **settings,
    )


def test_token_only_in_request_bodies(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="linkmsg")
    inbox = demo_inbox(seed=3, conversations=5, messages_per_conversation=12)
    emulator = LinkupEmulator(inbox, api_key=API_KEY, login_token=LOGIN_TOKEN)
    with _client(httpx.MockTransport(emulator)) as client:
        conversations = list(client.iter_conversations(page_size=2))
        for conversation in conversations:
            list(client.iter_messages(conversation, page_size=10))
        client.send_message("hello", to=conversations[0].participants[0])
        client.send_message("hello again", conversation=conversations[1].id)
        settings = client.provider.settings
        assert isinstance(settings, HTTPSettings)
        texts = [repr(client), repr(client.provider), str(settings), settings.account_key()]
    assert len(emulator.requests) > 10
    for request in emulator.requests:
        assert LOGIN_TOKEN not in str(request.url)
        assert all(LOGIN_TOKEN not in value for value in request.headers.values())
        assert request.headers["x-api-key"] == API_KEY
        body = json.loads(request.content)
        assert body["login_token"] == LOGIN_TOKEN
        assert request.content.decode().count(LOGIN_TOKEN) == 1  # nowhere else in the body
    for text in [*texts, caplog.text]:
        assert LOGIN_TOKEN not in text and API_KEY not in text
    assert "'***'" in texts[0]


def _echo_422(request: httpx.Request) -> httpx.Response:
    """FastAPI's validation answer, echoing the whole request body as `input`."""
    body = json.loads(request.content)
    detail = [
        {
            "loc": ["body", "total_results"],
            "msg": "Input should be a valid integer",
            "type": "int_parsing",
            "input": body,
        }
    ]
    return httpx.Response(422, json={"detail": detail})


def _echo_message(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(200, json={"status": "error", "message": f"Bad parameter: {body}"})


@pytest.mark.parametrize("handler", [_echo_422, _echo_message])
def test_errors_echoing_the_body_never_show_the_token(handler: object, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="linkmsg")
    with _client(httpx.MockTransport(handler)) as client, pytest.raises(ProviderError) as info:  # type: ignore[arg-type]
        client.list_conversations()
    error = info.value
    shown = [str(error), repr(error), error.vendor_message or "", *map(str, error.args), caplog.text]
    for text in shown:
        assert LOGIN_TOKEN not in text and API_KEY not in text


def test_bad_settings_errors_do_not_show_secrets() -> None:
    with pytest.raises(LinkmsgError) as info:
        linkmsg.Client("linkup", api_key=API_KEY, login_token=LOGIN_TOKEN, country="Mars")
    assert "country must be one of" in str(info.value)
    assert LOGIN_TOKEN not in str(info.value) and API_KEY not in str(info.value)
    with pytest.raises(LinkmsgError) as info:
        linkmsg.Client("linkup", api_key=API_KEY, login_token="   ")
    assert "login_token must be a non-empty string" in str(info.value)
    assert API_KEY not in str(info.value)


def test_account_key_is_a_hash_of_the_token() -> None:
    one = linkmsg.Client("linkup", api_key=API_KEY, login_token=LOGIN_TOKEN).provider.settings
    two = linkmsg.Client("linkup", api_key=API_KEY, login_token=LOGIN_TOKEN + "x").provider.settings
    assert isinstance(one, HTTPSettings) and isinstance(two, HTTPSettings)
    assert one.account_key() != two.account_key()
    assert LOGIN_TOKEN not in one.account_key() and LOGIN_TOKEN[:8] not in one.account_key()
