"""No credential in a cassette, a repr, a log line or an error; the key only in Authorization."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from linkmsg_connectsafely.emulator import ConnectSafelyEmulator
from linkmsg_connectsafely.provider import ConnectSafelySettings

import linkmsg
from linkmsg.errors import LinkmsgError
from linkmsg.memory import demo_inbox

CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "connectsafely"
API_KEY = "cs_live_9f3b2c7e1a8d4f6b0e5c2a9d7b3f1e8c"
SECRET_HEADERS = {"authorization", "x-api-key", "cookie", "set-cookie", "proxy-authorization"}
SECRET_KEYS = {"api_key", "apikey", "token", "password", "secret", "login_token", "authorization"}
# Bearer tokens and key-looking strings (long hex or base62 with a key prefix).
SECRET_TEXT = re.compile(r"Bearer\s+(?!REDACTED\b)\S+|\b(?:sk|cs|pk)_(?:live|test)_\w+|test-key", re.I)


def _client(transport: httpx.MockTransport) -> linkmsg.Client:
    return linkmsg.Client(
        "connectsafely", api_key=API_KEY, base_url="https://api.connectsafely.ai", http_transport=transport
    )


def _walk(value: Any, where: str) -> list[str]:
    problems = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key).lower() in SECRET_KEYS and inner != "REDACTED":
                problems.append(f"{where}.{key} holds {inner!r}")
            problems += _walk(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            problems += _walk(inner, f"{where}[{n}]")
    elif isinstance(value, str) and SECRET_TEXT.search(value):
        problems.append(f"{where} looks like a credential: {value[:60]!r}")
    return problems


def _json_or_text(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.stem)
def test_cassette_holds_no_credential(path: Path) -> None:
    tape = yaml.safe_load(path.read_text())
    problems = []
    for n, interaction in enumerate(tape["interactions"]):
        for side in ("request", "response"):
            part = interaction[side]
            for name, values in part.get("headers", {}).items():
                if name.lower() in SECRET_HEADERS and values != ["REDACTED"]:
                    problems.append(f"#{n} {side} header {name} = {values!r}")
                problems += _walk(values, f"#{n} {side} header {name}")
            body = part["body"]["string"] if side == "response" else part.get("body")
            problems += _walk(_json_or_text(body), f"#{n} {side} body")
        problems += _walk(interaction["request"]["uri"], f"#{n} uri")
    assert not problems, "\n".join(problems)


def test_there_are_cassettes_to_check() -> None:
    assert len(list(CASSETTES.glob("*.yaml"))) >= 20


def test_key_only_in_the_authorization_header(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="linkmsg")
    emulator = ConnectSafelyEmulator(demo_inbox(seed=5, conversations=4, messages_per_conversation=12), api_key=API_KEY)
    with _client(httpx.MockTransport(emulator)) as client:
        conversations = list(client.iter_conversations(page_size=2))
        for conversation in conversations:
            list(client.iter_messages(conversation, page_size=5))
        client.send_message("hello", to=conversations[0].participants[0])
        client.send_message("hello again", conversation=conversations[1].id)
        settings = client.provider.settings
        texts = [repr(client), repr(client.provider), str(settings), settings.account_key()]
    assert len(emulator.requests) > 10
    for request in emulator.requests:
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert API_KEY not in str(request.url) and API_KEY not in request.content.decode()
    for text in [*texts, caplog.text]:
        assert API_KEY not in text
    assert "api_key='***'" in texts[0]


def test_errors_never_carry_the_key() -> None:
    """A vendor that echoes the key back in its error text is scrubbed."""

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": f"Invalid key {request.headers['authorization']}"})

    with _client(httpx.MockTransport(echo)) as client, pytest.raises(LinkmsgError) as info:
        client.list_conversations()
    error = info.value
    assert API_KEY not in str(error) and API_KEY not in repr(error)
    assert API_KEY not in (getattr(error, "vendor_message", "") or "")


def test_account_key_is_a_digest_or_the_account() -> None:
    by_key = ConnectSafelySettings(api_key=API_KEY).account_key()
    assert API_KEY not in by_key and by_key.startswith("key-sha256:")
    assert by_key == ConnectSafelySettings(api_key=API_KEY).account_key()
    assert by_key != ConnectSafelySettings(api_key=API_KEY + "x").account_key()
    assert ConnectSafelySettings(api_key=API_KEY, account_id="696ce9e780e0483585e4e553").account_key() == (
        "account:696ce9e780e0483585e4e553"
    )


def test_base_url_is_the_host_root() -> None:
    """Newer doc pages print paths relative to …/linkedin; that base works too."""
    assert ConnectSafelySettings(api_key=API_KEY).base_url == "https://api.connectsafely.ai"
    copied = ConnectSafelySettings(api_key=API_KEY, base_url="https://api.connectsafely.ai/linkedin/")
    assert copied.base_url == "https://api.connectsafely.ai"
    assert ConnectSafelySettings(api_key=API_KEY, base_url="http://127.0.0.1:8080/").base_url == "http://127.0.0.1:8080"
