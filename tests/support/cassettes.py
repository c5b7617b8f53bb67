"""vcrpy set-up shared by every provider's cassette tests.

Cassettes replay with ``record_mode="none"``: a request that is not in the
cassette fails the test instead of reaching the network. Requests match on
method, URL and JSON body with secret fields removed, so the single-endpoint
action API (every call a POST to one path) matches on its body.

Re-recording against a real vendor (see cassettes/README.md) uses
``LINKMSG_RECORD=1``; the same hooks scrub credentials before anything is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import vcr

ROOT = Path(__file__).resolve().parents[2] / "cassettes"
SECRET_HEADERS = ["authorization", "x-api-key", "cookie", "set-cookie"]
SECRET_BODY_KEYS = {"login_token", "api_key", "password", "token"}
PLACEHOLDER = "REDACTED"


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (PLACEHOLDER if k in SECRET_BODY_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _json_body(request: Any) -> Any:
    body = request.body
    if not body:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return json.loads(body)
    except ValueError:
        return body


def scrub_request(request: Any) -> Any:
    data = _json_body(request)
    if isinstance(data, dict | list):
        request.body = json.dumps(_scrub(data)).encode()
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [PLACEHOLDER]
    return response


def json_body_matcher(r1: Any, r2: Any) -> None:
    a, b = _scrub(_json_body(r1)), _scrub(_json_body(r2))
    if a != b:
        raise AssertionError(f"bodies differ: {a!r} != {b!r}")


def cassette(provider: str, name: str) -> Any:
    """Context manager replaying ``cassettes/<provider>/<name>.yaml``."""
    recorder = vcr.VCR(
        cassette_library_dir=str(ROOT / provider),
        record_mode="new_episodes" if os.environ.get("LINKMSG_RECORD") == "1" else "none",
        match_on=["method", "scheme", "host", "port", "path", "query", "json_body"],
        filter_headers=SECRET_HEADERS,
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )
    recorder.register_matcher("json_body", json_body_matcher)
    return recorder.use_cassette(f"{name}.yaml")
