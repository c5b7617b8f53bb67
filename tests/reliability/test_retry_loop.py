"""The sans-IO retry loop on its own, with a fake clock: exact waits, exact attempt counts."""

from __future__ import annotations

import email.utils
import random
from collections.abc import Generator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from linkmsg.errors import (
    AuthenticationError,
    LinkmsgError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ResponseShapeError,
    SendOutcomeUnknown,
    ServerError,
    TransportError,
)
from linkmsg.provider import Request, Response
from linkmsg.transport import (
    Attempt,
    RateLimiter,
    Redactor,
    RetryLoop,
    Wait,
    parse_rate,
    retry_after_from_body,
    retry_after_from_headers,
)

from .tiny import TinyProvider, TinySettings
from .vendors import API_KEY, LOGIN_TOKEN

READ = Request("GET", "/conversations", params={"limit": 3})
SEND = Request("POST", "/messages", json={"text": "hello", "to": "urn:li:fsd_profile:ACoAAB"}, is_send=True)
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_loop(**settings: Any) -> tuple[RetryLoop, Clock]:
    options = {"max_retries": 2, "backoff": 0.5, "max_backoff": 8.0, "deadline": 120.0, **settings}
    provider = TinyProvider(TinySettings(api_key=API_KEY, login_token=LOGIN_TOKEN, **options))
    clock = Clock()
    assert isinstance(provider.settings, TinySettings)
    loop = RetryLoop(
        provider,
        provider.settings,
        Redactor([API_KEY, LOGIN_TOKEN]),
        clock=clock,
        wall=lambda: NOW + clock.now,
        rng=random.Random(1),
    )
    return loop, clock


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"data": {"conversations": []}})


def status(code: int, headers: dict[str, str] | None = None, body: Any = None) -> httpx.Response:
    return httpx.Response(code, headers=headers, json=body if body is not None else {"error": "x"})


Outcome = httpx.Response | Exception


def drive(
    loop: RetryLoop, clock: Clock, request: Request, outcomes: Sequence[Outcome]
) -> tuple[list[Attempt | Wait], Response]:
    """Feed ``outcomes`` to the attempts in order; waits advance the clock. Returns the steps and the result."""
    steps: list[Attempt | Wait] = []
    gen: Generator[Attempt | Wait, Any, Response] = loop.run(request)
    pending = list(outcomes)
    step = next(gen)
    try:
        while True:
            steps.append(step)
            if isinstance(step, Wait):
                clock.now += step.seconds
                step = gen.send(None)
            else:
                step = gen.send(pending.pop(0))
    except StopIteration as stop:
        return steps, stop.value


def failing(
    loop: RetryLoop, clock: Clock, request: Request, outcomes: Sequence[Outcome]
) -> tuple[list[Any], Exception]:
    steps: list[Attempt | Wait] = []
    gen = loop.run(request)
    pending = list(outcomes)
    try:
        step = next(gen)
        while True:
            steps.append(step)
            if isinstance(step, Wait):
                clock.now += step.seconds
                step = gen.send(None)
            else:
                step = gen.send(pending.pop(0))
    except StopIteration:
        raise AssertionError("expected an error") from None
    except Exception as exc:
        assert exc.__context__ is None, "the error must not chain an httpx exception (or its request)"
        return steps, exc


def attempts(steps: list[Any]) -> list[Attempt]:
    return [s for s in steps if isinstance(s, Attempt)]


def waits(steps: list[Any]) -> list[float]:
    return [s.seconds for s in steps if isinstance(s, Wait)]


# ---------------------------------------------------------------- building


def test_the_attempt_carries_auth_and_merged_body_and_clipped_timeouts() -> None:
    loop, clock = make_loop(timeout=30.0, connect_timeout=5.0, deadline=10.0)
    steps, _ = drive(loop, clock, SEND, [ok({"data": {"messageId": "m", "conversationId": "c", "sentAt": 1}})])
    attempt = attempts(steps)[0]
    assert attempt.headers["authorization"] == f"Bearer {API_KEY}"
    assert attempt.content is not None and LOGIN_TOKEN.encode() in attempt.content
    assert attempt.timeout.read == 10.0 and attempt.timeout.connect == 5.0  # no longer than the deadline
    assert API_KEY not in repr(attempt) and LOGIN_TOKEN not in repr(attempt)


# ---------------------------------------------------------------- backoff


def test_backoff_is_exponential_capped_and_jittered_within_bounds() -> None:
    loop, clock = make_loop(max_retries=6, backoff=0.5, max_backoff=3.0)
    steps, _ = drive(loop, clock, READ, [status(503)] * 6 + [ok()])
    for n, wait in enumerate(waits(steps), start=1):
        base = min(3.0, 0.5 * 2 ** (n - 1))
        assert base / 2 <= wait <= base
    assert len(attempts(steps)) == 7


def test_attempts_are_bounded_by_max_retries() -> None:
    loop, clock = make_loop(max_retries=3)
    steps, error = failing(loop, clock, READ, [status(500)] * 10)
    assert isinstance(error, ServerError) and len(attempts(steps)) == 4
    assert "gave up after 4 attempts" in str(error)


def test_zero_retries_means_one_attempt() -> None:
    loop, clock = make_loop(max_retries=0)
    steps, error = failing(loop, clock, READ, [status(503)])
    assert isinstance(error, ServerError) and len(attempts(steps)) == 1 and not waits(steps)


def test_the_deadline_stops_retries_before_a_wait_would_cross_it() -> None:
    loop, clock = make_loop(max_retries=100, backoff=1.0, max_backoff=1.0, deadline=3.5)
    steps, error = failing(loop, clock, READ, [status(502)] * 100)
    assert isinstance(error, ServerError)
    assert sum(waits(steps)) <= 3.5
    assert 3 <= len(attempts(steps)) <= 8


# ---------------------------------------------------------------- vendor-requested waits


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": email.utils.formatdate(NOW + 100 + 12, usegmt=True)}, 12.0),
        ({"x-ratelimit-reset": "9"}, 9.0),
        ({"x-ratelimit-reset": str(int(NOW + 100 + 20))}, 20.0),  # epoch seconds
        ({"x-ratelimit-reset": str(int((NOW + 100 + 20) * 1000))}, 20.0),  # epoch milliseconds
        (
            {"x-ratelimit-reset": datetime.fromtimestamp(NOW + 100 + 30, UTC).isoformat().replace("+00:00", "Z")},
            30.0,
        ),
    ],
)
def test_a_429_waits_exactly_what_the_vendor_asks(headers: dict[str, str], expected: float) -> None:
    loop, clock = make_loop()
    steps, _ = drive(loop, clock, READ, [status(429, headers), ok()])
    assert waits(steps) == [pytest.approx(expected, abs=0.01)]


def test_hold_until_in_the_body_is_a_wait() -> None:
    loop, clock = make_loop()
    hold = datetime.fromtimestamp(NOW + 100 + 42, UTC).isoformat().replace("+00:00", "Z")
    steps, _ = drive(loop, clock, READ, [status(429, body={"success": False, "error": "cap", "holdUntil": hold}), ok()])
    assert waits(steps) == [pytest.approx(42, abs=0.01)]


def test_the_longest_of_several_hints_wins() -> None:
    loop, clock = make_loop()
    hold = datetime.fromtimestamp(NOW + 100 + 9, UTC).isoformat()
    steps, _ = drive(loop, clock, READ, [status(429, {"retry-after": "3"}, {"holdUntil": hold}), ok()])
    assert waits(steps) == [pytest.approx(9, abs=0.01)]


def test_x_ratelimit_reset_is_ignored_on_a_500() -> None:
    # Sent on every response; on a 500 it says when the daily quota resets, not when to retry.
    loop, clock = make_loop(backoff=0.5)
    steps, _ = drive(loop, clock, READ, [status(500, {"x-ratelimit-reset": "86000"}), ok()])
    assert waits(steps)[0] <= 0.5


def test_retry_after_on_a_503_is_honoured() -> None:
    loop, clock = make_loop()
    steps, _ = drive(loop, clock, READ, [status(503, {"retry-after": "4"}), ok()])
    assert waits(steps) == [4.0]


def test_a_wait_beyond_the_cap_raises_rate_limit_error_without_sleeping() -> None:
    loop, clock = make_loop(max_retry_wait=60)
    steps, error = failing(loop, clock, READ, [status(429, {"retry-after": "61"})])
    assert isinstance(error, RateLimitError) and error.retry_after == 61 and not waits(steps)


def test_a_5xx_asking_for_a_wait_beyond_the_cap_becomes_rate_limit_error() -> None:
    loop, clock = make_loop(max_retry_wait=10)
    _, error = failing(loop, clock, READ, [status(503, {"retry-after": "3600"})])
    assert isinstance(error, RateLimitError) and error.status == 503 and error.retry_after == 3600
    assert "max_retry_wait" in str(error)


def test_an_exhausted_429_reports_its_retry_after() -> None:
    loop, clock = make_loop(max_retries=1)
    _, error = failing(loop, clock, READ, [status(429, {"retry-after": "2"})] * 2)
    assert isinstance(error, RateLimitError) and error.retry_after == 2


@pytest.mark.parametrize("value", ["soon", "", "-5", "nan", "inf", "Mon, 99 Foo 2026"])
def test_unreadable_hints_fall_back_to_backoff(value: str) -> None:
    loop, clock = make_loop(backoff=0.5)
    steps, _ = drive(loop, clock, READ, [status(429, {"retry-after": value}), ok()])
    assert 0 <= waits(steps)[0] <= 0.5


def test_hint_parsers_never_raise_on_odd_values() -> None:
    for value in ["", "x", "1e400", "-1", "2026-13-45T99:99:99Z", "0x10", "  3  "]:
        retry_after_from_headers({"retry-after": value, "x-ratelimit-reset": value}, NOW, rate_limited=True)
    bodies: list[Any] = [None, [], {"holdUntil": None}, {"holdUntil": True}, {"error": {"retry_after": "abc"}}, "text"]
    for body in bodies:
        retry_after_from_body(body, NOW)
    assert retry_after_from_body({"error": {"retryAfter": 5}}, NOW) == 5


# ---------------------------------------------------------------- never retried


@pytest.mark.parametrize(
    ("code", "error"),
    [(400, ProviderError), (401, AuthenticationError), (403, AuthenticationError), (404, NotFoundError)],
)
def test_client_errors_are_never_retried(code: int, error: type[Exception]) -> None:
    loop, clock = make_loop()
    steps, raised = failing(loop, clock, READ, [status(code, {"retry-after": "1"})])
    assert isinstance(raised, error) and len(attempts(steps)) == 1


def test_a_provider_cannot_make_a_401_retryable() -> None:
    class Eager(TinyProvider):
        def error_for(self, response: Response) -> ProviderError | None:
            if response.status >= 400:
                return ServerError("retry me", provider=self.name, status=response.status, retryable=True)
            return None

    loop, clock = make_loop()
    loop.provider = Eager(loop.settings)
    steps, _ = failing(loop, clock, READ, [status(401)] * 3)
    assert len(attempts(steps)) == 1


# ---------------------------------------------------------------- network failures


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.ReadTimeout("slow read"),
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.WriteError("broken pipe"),
        httpx.PoolTimeout("pool"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_network_failures_on_reads_are_retried(exc: Exception) -> None:
    loop, clock = make_loop()
    steps, _ = drive(loop, clock, READ, [exc, ok()])
    assert len(attempts(steps)) == 2


def test_persistent_network_failure_is_a_transport_error() -> None:
    loop, clock = make_loop()
    steps, error = failing(loop, clock, READ, [httpx.ReadTimeout("t")] * 5)
    assert isinstance(error, TransportError) and "timed out" in str(error) and len(attempts(steps)) == 3


@pytest.mark.parametrize(
    "exc",
    [httpx.UnsupportedProtocol("ftp"), httpx.InvalidURL("bad"), httpx.LocalProtocolError(f"bad header {API_KEY}")],
    ids=lambda e: type(e).__name__,
)
def test_unusable_requests_fail_at_once_without_leaking(exc: Exception) -> None:
    loop, clock = make_loop()
    steps, error = failing(loop, clock, READ, [exc])
    assert isinstance(error, TransportError) and len(attempts(steps)) == 1
    assert API_KEY not in str(error)


def test_an_unknown_exception_from_a_custom_transport_is_not_retried() -> None:
    loop, clock = make_loop()
    steps, error = failing(loop, clock, READ, [RuntimeError("boom")])
    assert isinstance(error, TransportError) and len(attempts(steps)) == 1


# ---------------------------------------------------------------- sends


@pytest.mark.parametrize(
    "outcome",
    [
        httpx.ReadTimeout("after sending"),
        httpx.ReadError("reset after sending"),
        httpx.RemoteProtocolError("disconnected"),
        httpx.WriteError("broken pipe"),
        httpx.WriteTimeout("slow upload"),
        RuntimeError("custom transport bug"),
        status(500),
        status(503, {"retry-after": "1"}),
        status(408),
        httpx.Response(200, content=b"<html>oops</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, content=b'{"data": {"messageId": '),
    ],
    ids=lambda o: type(o).__name__ if isinstance(o, Exception) else f"HTTP{o.status_code}",
)
def test_a_send_that_may_have_landed_is_never_retried(outcome: Outcome) -> None:
    loop, clock = make_loop()
    steps, error = failing(loop, clock, SEND, [outcome, ok()])
    assert isinstance(error, SendOutcomeUnknown)
    assert len(attempts(steps)) == 1 and not waits(steps)
    assert error.text == "hello" and error.provider == "tiny"
    assert error.attempted_at == datetime.fromtimestamp(NOW + 100, UTC)


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError("refused"), httpx.ConnectTimeout("t"), httpx.PoolTimeout("p")], ids=repr
)
def test_a_send_that_provably_never_left_is_retried(exc: Exception) -> None:
    loop, clock = make_loop()
    body = {"data": {"messageId": "m", "conversationId": "c", "sentAt": 1}}
    steps, _ = drive(loop, clock, SEND, [exc, ok(body)])
    assert len(attempts(steps)) == 2


@pytest.mark.parametrize(("code", "error"), [(429, RateLimitError), (400, ProviderError), (401, AuthenticationError)])
def test_a_rejected_send_raises_its_error(code: int, error: type[Exception]) -> None:
    loop, clock = make_loop()
    steps, raised = failing(loop, clock, SEND, [status(code, {"retry-after": "5"})])
    assert type(raised) is error or isinstance(raised, error)
    assert len(attempts(steps)) == 1
    if isinstance(raised, RateLimitError):
        assert raised.retry_after == 5


# ---------------------------------------------------------------- bodies


def test_html_and_broken_json_on_reads_are_retried_then_shape_errors() -> None:
    loop, clock = make_loop()
    html = httpx.Response(200, content=b"<html>maintenance</html>", headers={"content-type": "text/html"})
    steps, error = failing(loop, clock, READ, [html, httpx.Response(200, content=b"{"), html])
    assert isinstance(error, ResponseShapeError) and "HTML" in str(error) and len(attempts(steps)) == 3


def test_a_secret_echoed_in_a_body_never_reaches_the_provider() -> None:
    loop, clock = make_loop()
    echoed = {"data": {"conversations": [], "nextCursor": f"token={LOGIN_TOKEN}"}}
    _, response = drive(loop, clock, READ, [ok(echoed)])
    assert LOGIN_TOKEN not in repr(response.data)
    hidden = API_KEY.replace("_", "\\u005f")  # JSON-escaped: the raw bytes do not contain the key
    escaped = httpx.Response(200, content=('{"data": {"conversations": [], "x": "' + hidden + '"}}').encode())
    _, response = drive(loop, clock, READ, [escaped])
    assert API_KEY not in repr(response.data)


# ---------------------------------------------------------------- client-side rate limit


def test_parse_rate() -> None:
    assert parse_rate("30/min") == (30, 60.0)
    assert parse_rate("5/10s") == (5, 10.0)
    assert parse_rate("1000/hour") == (1000, 3600.0)
    assert parse_rate("100 / day") == (100, 86400.0)
    for bad in ["", "0/min", "30", "30/fortnight", "5/0s", "-1/s"]:
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_the_rate_limiter_spaces_requests_by_a_sliding_window() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 10.0, clock=clock)
    assert [limiter.reserve() for _ in range(3)] == [0, 0, 0]
    assert limiter.reserve() == 10.0  # the 4th starts when the 1st leaves the window
    assert limiter.reserve() == 10.0
    clock.now += 4
    assert limiter.reserve() == 6.0
    assert limiter.reserve(max_wait=5.0) < 0  # too long: nothing reserved
    clock.now += 100
    assert limiter.reserve() == 0


def test_a_request_counts_against_the_limit_until_its_attempt_ends() -> None:
    # The vendor counts a request when it arrives, which may be well after it was allowed
    # to start (a connection slow to open): the next window opens from the attempt's end.
    clock = Clock()
    limiter = RateLimiter(2, 10.0, clock=clock)
    (_, first), (_, second) = limiter.reserve_slot(), limiter.reserve_slot()
    assert first == second == clock.now
    limiter.settle(first, clock.now + 3)
    assert limiter.reserve(max_wait=0) < 0  # still two requests in the window
    limiter.settle(second, clock.now + 5)
    assert limiter.reserve() == 13.0  # ten seconds after the first request ended
    limiter.settle(clock.now + 50, clock.now + 1)  # an end before the reservation changes nothing
    assert limiter.reserve() == 15.0


def test_the_retry_loop_settles_each_attempt_with_the_limiter() -> None:
    loop, clock = make_loop(rate_limit="1/10s")
    loop.limiter = RateLimiter(1, 10.0, clock=clock)
    gen = loop.run(READ)
    assert isinstance(next(gen), Attempt)
    clock.now += 4  # the answer takes four seconds
    with pytest.raises(StopIteration):
        gen.send(ok())
    steps, _ = drive(loop, clock, READ, [ok()])
    assert waits(steps) == [10.0]  # from the end of the first attempt, not from its start


def test_a_client_side_wait_beyond_the_cap_raises_instead_of_sleeping() -> None:
    loop, clock = make_loop(max_retry_wait=5.0, rate_limit="1/min")
    loop.limiter = RateLimiter(1, 60.0, clock=clock)
    drive(loop, clock, READ, [ok()])
    steps, error = failing(loop, clock, READ, [ok()])
    assert isinstance(error, RateLimitError) and error.retry_after == pytest.approx(60)
    assert not attempts(steps)


def test_a_client_side_wait_is_a_wait_step() -> None:
    loop, clock = make_loop(rate_limit="1/2s")
    loop.limiter = RateLimiter(1, 2.0, clock=clock)
    drive(loop, clock, READ, [ok()])
    steps, _ = drive(loop, clock, READ, [ok()])
    assert waits(steps) == [2.0] and isinstance(steps[0], Wait)


def test_deadline_clipping_reports_the_real_cause() -> None:
    loop, clock = make_loop(deadline=1.0, timeout=30.0, backoff=0.1, max_backoff=0.1, max_retries=10)
    _, error = failing(loop, clock, READ, [status(503), status(503), httpx.ReadTimeout("clipped")])
    assert isinstance(error, ServerError)


def test_wall_clock_dates_use_the_injected_clock() -> None:
    loop, clock = make_loop()
    when = datetime.fromtimestamp(NOW + 100, UTC) + timedelta(seconds=3)
    steps, _ = drive(loop, clock, READ, [status(429, {"retry-after": email.utils.format_datetime(when)}), ok()])
    assert waits(steps) == [pytest.approx(3, abs=1)]


# ---------------------------------------------------------------- redirects


def moved(code: int, location: str) -> httpx.Response:
    return httpx.Response(code, headers={"location": location})


def test_a_same_origin_307_repeats_the_method_body_and_credentials() -> None:
    loop, clock = make_loop()
    steps, response = drive(loop, clock, SEND, [moved(307, "/v2/messages?x=1"), ok()])
    first, second = attempts(steps)
    assert response.status == 200 and not waits(steps)
    assert (second.method, second.content, second.headers) == (first.method, first.content, first.headers)
    assert second.url.endswith("/v2/messages?x=1") and second.number == first.number == 1


def test_a_relative_redirect_keeps_the_query_it_came_with_only_if_it_says_so() -> None:
    loop, clock = make_loop()
    steps, _ = drive(loop, clock, READ, [moved(307, "conversations"), ok()])
    first, second = attempts(steps)
    assert first.params == {"limit": 3} and second.params is None
    assert httpx.URL(second.url).path.endswith("/conversations") and "limit" not in second.url


@pytest.mark.parametrize(("code", "method"), [(303, "GET"), (302, "GET"), (301, "GET"), (308, "POST")])
def test_303_and_a_posted_301_or_302_become_a_get_without_a_body(code: int, method: str) -> None:
    loop, clock = make_loop()
    steps, _ = drive(loop, clock, SEND, [moved(code, "/elsewhere"), ok()])
    second = attempts(steps)[1]
    assert second.method == method
    assert (second.content is None) == (method == "GET")
    assert ("content-type" in second.headers) == (method == "POST")


@pytest.mark.parametrize(
    "location",
    ["https://evil.example/steal", "//evil.example/x", "http://127.0.0.1:9/x", "ftp://api.example.test/x"],
)
def test_a_redirect_to_another_origin_is_refused_before_anything_is_sent(location: str) -> None:
    loop, clock = make_loop()
    steps, error = failing(loop, clock, SEND, [moved(307, location)])
    assert isinstance(error, TransportError) and "another origin" in str(error)
    assert len(attempts(steps)) == 1
    assert API_KEY not in str(error) and LOGIN_TOKEN not in str(error)


def test_a_redirect_loop_stops() -> None:
    loop, clock = make_loop()
    _, error = failing(loop, clock, READ, [moved(302, "/again")] * 20)
    assert isinstance(error, TransportError) and "redirected more than" in str(error)


def test_a_3xx_without_location_is_an_answer_not_a_redirect() -> None:
    loop, clock = make_loop(max_retries=0)
    steps, error = failing(loop, clock, READ, [httpx.Response(302, json={"error": "x"})])
    assert len(attempts(steps)) == 1 and isinstance(error, LinkmsgError)
