"""Real-looking secrets through every error path: none may come out.

The vendor echoes the API key and the LinkedIn session token everywhere it
can (error messages in every status, HTML pages, 200 failure envelopes,
``Set-Cookie`` headers, a drifted field whose value is the token, bodies that
are not JSON), the network fails in every way, and the caller misuses the
API. Every exception's ``str``, ``repr``, attributes and formatted traceback
(chained exceptions included), every repr of a client, provider, settings and
transport, and every log record of the test are then searched for the secrets.
The package-level sweep in ``conftest.py`` repeats the search over everything
the whole reliability suite logged and raised, and over every cassette.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

import linkmsg
from linkmsg.errors import LinkmsgError
from linkmsg.memory import Inbox
from linkmsg.testing.server import FakeVendorServer, Fault

from .conftest import Api, Leaks, cassette_texts
from .test_fault_matrix import send_kwargs, thread
from .vendors import API_KEY, LOGIN_TOKEN, SECRETS, VendorProfile, traces

Drive = Callable[[Callable[[], Any]], Any]


def echo(secrets: tuple[str, ...]) -> str:
    return " / ".join(f"invalid credential {s} (Authorization: Bearer {s}; login_token={s})" for s in secrets)


def echo_body(secrets: tuple[str, ...]) -> dict[str, Any]:
    """Every error shape the vendors document, each field echoing the secrets."""
    text = echo(secrets)
    return {
        "success": False,
        "status": "error",
        "message": text,
        "error": {"code": "INVALID_PARAMS", "message": text, "issues": [{"path": ["login_token"], "message": text}]},
        "detail": [{"loc": ["body", "login_token"], "msg": text, "type": "value_error", "input": secrets[-1]}],
        "holdUntil": secrets[-1],
    }


def _set_everywhere(value: Any, secret: str) -> Any:
    """Drift: every string or number in the answer becomes the secret (ids, times, texts, cursors)."""
    if isinstance(value, dict):
        return {k: _set_everywhere(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_set_everywhere(v, secret) for v in value]
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return secret
    return value


Secrets = tuple[str, ...]
FaultFor = Callable[[Secrets], Fault]


def _status(code: int) -> FaultFor:
    def fault(secrets: Secrets) -> Fault:
        cookie = {"set-cookie": f"li_at={secrets[-1]}; Path=/; HttpOnly", "x-debug-key": secrets[0]}
        return Fault(status=code, json=echo_body(secrets), headers=cookie, times=50)

    return fault


def _html(secrets: Secrets) -> Fault:
    page = f"<html><body><h1>Error</h1><pre>{echo(secrets)}</pre></body></html>"
    return Fault(status=502, body=page, headers={"content-type": "text/html"}, times=50)


FAULTS = [
    *[pytest.param(_status(code), id=f"json-{code}") for code in (400, 401, 403, 404, 422, 429, 500, 503, 200)],
    pytest.param(_html, id="html"),
    pytest.param(
        lambda s: Fault(status=200, body=echo(s), headers={"content-type": "text/plain"}, times=50), id="text"
    ),
    pytest.param(lambda s: Fault(status=429, headers={"retry-after": s[-1]}, json=echo_body(s), times=50), id="hint"),
    pytest.param(lambda s: Fault(drift=lambda d: _set_everywhere(d, s[-1]), times=50), id="drift-last"),
    pytest.param(lambda s: Fault(drift=lambda d: _set_everywhere(d, s[0]), times=50), id="drift-first"),
    pytest.param(lambda s: Fault(truncate=True, times=50), id="truncated"),
    pytest.param(lambda s: Fault(cut=True, times=50), id="cut"),
    pytest.param(lambda s: Fault(drop="after_body", times=50), id="dropped"),
    pytest.param(lambda s: Fault(delay=1.0, times=50), id="timeout"),
]


def texts_of(error: BaseException) -> Iterator[str]:
    yield str(error)
    yield repr(error)
    yield repr(vars(error))
    yield "".join(traceback.format_exception(error))
    for linked in (error.__cause__, error.__context__):
        if linked is not None:
            yield from texts_of(linked)


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """Every record of this test, from the loggers a user would switch on."""
    found: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found.append(record)

    handler = Keep(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("linkmsg", "httpx", "httpcore")]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield found
    for lg, level in zip(loggers, saved, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def leaked(texts: list[str], secrets: Secrets = SECRETS) -> list[str]:
    return [f"…{t[max(0, t.find(s) - 60) : t.find(s) + 12]}…" for t in texts for s in traces(secrets) if s in t]


# One client suffices here: both drive the same RetryLoop, and the fault matrix runs both.
@pytest.mark.parametrize("mode", ["sync"])
@pytest.mark.parametrize("fault", FAULTS)
def test_no_secret_comes_out_of_any_error_path(
    vendor: VendorProfile,
    server: FakeVendorServer,
    make_api: Callable[..., Api],
    drive: Drive,
    inbox: Inbox,
    records: list[logging.LogRecord],
    leaks: Leaks,
    fault: FaultFor,
) -> None:
    scheduled = fault(vendor.secrets)
    server.schedule(scheduled)
    conversation = thread(inbox)
    texts: list[str] = []

    async def scenario() -> None:
        # A slow vendor is waited for briefly and once: the point here is the error text, not the retry.
        api = make_api(timeout=0.05, max_retries=0) if scheduled.delay else make_api(timeout=0.2, max_retries=1)
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: api.list_conversations(limit=2),
            lambda: api.list_messages(conversation.id, limit=2),
            lambda: api.all_messages(conversation.id, page_size=3),
            lambda: api.send("a message that may or may not land", **send_kwargs(api, conversation)),
        ]
        for call in calls:
            try:
                result = await call()
            except LinkmsgError as error:
                texts.extend(texts_of(error))
                leaks.add(error)
                if isinstance(error, linkmsg.SendOutcomeUnknown):
                    try:
                        texts.append(repr(await api.reconcile(error)))
                    except LinkmsgError as again:
                        texts.extend(texts_of(again))
            else:
                texts.append(repr(result))
        client = api.client
        texts.extend([repr(client), str(client), repr(client.provider), repr(client.provider.settings)])
        texts.append(repr(client._get_transport()))

    drive(scenario)
    texts.extend(record.getMessage() for record in records)
    texts.extend(repr(record.args) for record in records)
    assert records, "nothing was logged: the check would prove nothing"
    assert not leaked(texts, vendor.secrets), leaked(texts, vendor.secrets)[:3]


def test_misuse_errors_hold_no_secret(tmp_path: Any, leaks: Leaks) -> None:
    """Errors the caller causes (bad settings, bad arguments) never repeat a credential."""
    attempts: list[Callable[[], object]] = [
        lambda: linkmsg.Client("tiny", api_key=API_KEY, login_token=LOGIN_TOKEN, timeout="soon"),
        lambda: linkmsg.Client("tiny", api_key=API_KEY, login_token=LOGIN_TOKEN, rate_limit="lots"),
        lambda: linkmsg.Client("tiny", api_key=API_KEY, login_token=LOGIN_TOKEN, unknown_setting=1),
        lambda: linkmsg.Client(
            "tiny", api_key=API_KEY, login_token=LOGIN_TOKEN, base_url="ftp://x"
        ).list_conversations(),
        lambda: linkmsg.Client("tiny", api_key=API_KEY, login_token=LOGIN_TOKEN).with_options(timeout=-1),
        lambda: linkmsg.Client("tiny", api_key=API_KEY, login_token=LOGIN_TOKEN).list_conversations(cursor="bad"),
        lambda: linkmsg.Client("tiny", api_key=f"{API_KEY}\n", login_token=LOGIN_TOKEN).list_conversations(),
    ]
    texts: list[str] = []
    for attempt in attempts:
        with pytest.raises(LinkmsgError) as info:
            attempt()
        texts.extend(texts_of(info.value))
        leaks.add(info.value)
    assert not leaked(texts), leaked(texts)[:3]


def test_the_cassettes_hold_no_secret_of_this_suite() -> None:
    problems = [str(path) for path, text in cassette_texts() for secret in traces() if secret in text]
    assert not problems
