"""No cassette of any provider holds a credential.

Cassettes are written from vendor documentation, or re-recorded against a real
vendor through ``tests/support/cassettes.py``, whose hooks scrub credentials on
the way to disk. This test is the check after either: every credential header
and body field is ``REDACTED`` (or absent), and nothing in any request or
response looks like a key, a bearer token or a LinkedIn session cookie.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
PLACEHOLDER = "REDACTED"
SECRET_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"}
SECRET_FIELDS = {"login_token", "api_key", "apikey", "password", "token", "secret", "authorization"}
# A bearer token, a key with a live/test prefix, a LinkedIn `li_at` session cookie (AQED…).
SECRET_TEXT = re.compile(
    r"Bearer\s+(?!REDACTED\b)\S{8,}|\b(?:sk|cs|pk|lk)_(?:live|test)_\w{8,}|\bli_at=|\bAQED[A-Za-z0-9_-]{20,}"
)


def _json_or_text(text: Any) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str) or not text:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _walk(value: Any, where: str) -> list[str]:
    problems: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key).lower() in SECRET_FIELDS and inner not in (PLACEHOLDER, None, ""):
                problems.append(f"{where}.{key} is not {PLACEHOLDER}")
            problems += _walk(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            problems += _walk(inner, f"{where}[{n}]")
    elif isinstance(value, str) and SECRET_TEXT.search(value):
        problems.append(f"{where} looks like a credential")
    return problems


def leaks(cassette: dict[str, Any]) -> list[str]:
    """Where a parsed vcrpy cassette holds (or may hold) a credential; empty when clean."""
    problems: list[str] = []
    for n, interaction in enumerate(cassette.get("interactions") or []):
        for side in ("request", "response"):
            part = interaction.get(side) or {}
            for name, values in (part.get("headers") or {}).items():
                values = values if isinstance(values, list) else [values]
                if name.lower() in SECRET_HEADERS and any(v != PLACEHOLDER for v in values):
                    problems.append(f"interactions[{n}].{side} header {name} is not {PLACEHOLDER}")
                problems += _walk(values, f"interactions[{n}].{side}.headers.{name}")
            body = part.get("body")
            if isinstance(body, dict):  # responses keep their text under `string`
                body = body.get("string")
            problems += _walk(_json_or_text(body), f"interactions[{n}].{side}.body")
            problems += _walk(part.get("uri"), f"interactions[{n}].{side}.uri")
    return problems


ALL = sorted(CASSETTES.glob("*/*.yaml"))


def test_every_provider_has_cassettes() -> None:
    assert {p.parent.name for p in ALL} >= {"connectsafely", "linkup", "linkup-v2"}


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cassette_holds_no_credential(path: Path) -> None:
    cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert cassette.get("interactions"), f"{path} has no interactions"
    problems = leaks(cassette)
    assert not problems, f"{path.relative_to(CASSETTES.parent)}: " + "; ".join(problems)


@pytest.mark.parametrize(
    ("request_part", "response_part"),
    [
        ({"headers": {"x-api-key": ["lk_live_0123456789abcdef"]}}, {}),
        ({"headers": {"Authorization": ["Bearer abcdefghijklmnop"]}}, {}),
        ({"body": json.dumps({"login_token": "AQEDAQ-not-a-real-cookie-value"})}, {}),
        ({}, {"headers": {"set-cookie": ["li_at=AQEDxyz; Path=/"]}}),
        ({}, {"body": {"string": json.dumps({"echo": {"input": {"api_key": "cs_live_0123456789abcdef"}}})}}),
    ],
)
def test_the_check_finds_a_planted_credential(request_part: dict[str, Any], response_part: dict[str, Any]) -> None:
    clean = {"uri": "https://api.example.test/x", "headers": {"x-api-key": [PLACEHOLDER]}}
    planted = {"interactions": [{"request": {**clean, **request_part}, "response": response_part}]}
    assert leaks(planted)
    assert not leaks({"interactions": [{"request": clean, "response": {"body": {"string": "{}"}}}]})
