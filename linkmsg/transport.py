"""HTTP transport: auth, timeouts, retries, rate limiting, error mapping, redaction.

Every decision (what to retry, how long to wait, which error to raise, when a
send's outcome is unknown) is made by one sans-IO loop, :meth:`RetryLoop.run`:
a generator that yields :class:`Attempt` (perform this HTTP request) and
:class:`Wait` (sleep this long) steps and is sent back what happened (an
``httpx.Response`` or the exception the attempt raised). :class:`SyncTransport`
and :class:`AsyncTransport` only perform those steps with ``httpx.Client`` /
``time.sleep`` or ``httpx.AsyncClient`` / ``asyncio.sleep``, so the two clients
behave the same by construction, and the loop is testable with a fake clock.

Secrets: every credential the provider's settings declare (and every value the
provider puts in auth headers or auth body fields) is scrubbed from response
bodies before a provider parses them, from every exception the transport
raises, and from every log line. The ``linkmsg`` logger stays silent unless the
application configures logging or ``LINKMSG_LOG=debug|info`` is set, which
attaches one stderr handler to the ``linkmsg`` logger (never to the root).
"""

from __future__ import annotations

import asyncio
import bisect
import email.utils
import json
import logging
import math
import os
import random
import re
import threading
import time
import weakref
from collections.abc import Callable, Generator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeAlias

import attrs
import httpx

from linkmsg.errors import (
    ConfigError,
    LinkmsgError,
    ProviderError,
    RateLimitError,
    ResponseShapeError,
    SendOutcomeUnknown,
    TransportError,
)
from linkmsg.provider import HTTPSettings, Provider, Request, Response

try:  # optional speed-up: `pip install linkmsg[fast]`
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

__all__ = [
    "REDACTED",
    "AsyncTransport",
    "Attempt",
    "RateLimiter",
    "Redactor",
    "RetryLoop",
    "SyncTransport",
    "Wait",
    "configure_logging",
    "logger",
    "parse_rate",
    "retry_after_from_headers",
]

REDACTED = "***"

# ---------------------------------------------------------------- logging

logger = logging.getLogger("linkmsg")

_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "set-cookie", "proxy-authorization", "api-key"})
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|api[_-]?key|authorization|cookie|session)", re.I)
# Defence in depth for log lines that did not go through a Redactor: a bearer
# token, or a value right after a secret-looking key in a dict, JSON or query.
_SECRET_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)(?!\*\*\*)[^\s'\",}]+"),
    re.compile(
        r"(?i)([\"']?\b[\w-]*(?:token|secret|password|api[_-]?key|authorization|cookie)[\w-]*[\"']?\s*[:=]\s*[\"']?)"
        r"(?!\*\*\*)(?!bearer\b)[^\s'\",}&]+"
    ),
)


def scrub_patterns(text: str) -> str:
    """Mask anything that looks like a credential in free text (bearer tokens, ``key=value``)."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class _RedactingFilter(logging.Filter):
    """Masks credentials in every record of the loggers a request goes through.

    Known secret values (those of every live transport) and credential-looking
    text are replaced. It sits on ``linkmsg`` and also on ``httpx`` and
    ``httpcore``'s loggers, whose debug traces print response headers (a vendor
    may echo a session cookie there); it never changes their levels or handlers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub_patterns(message)
        for redactor in _live_redactors():
            scrubbed = redactor.text(scrubbed)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_REDACTING_FILTER = _RedactingFilter()
for _name in ("linkmsg", "httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy"):
    logging.getLogger(_name).addFilter(_REDACTING_FILTER)
_HANDLER_MARK = "_linkmsg_env_handler"


def configure_logging(level: str | int = "debug", stream: Any = None) -> logging.Handler:
    """Send ``linkmsg`` log records to ``stream`` (stderr) at ``level``.

    Attaches one handler to the ``linkmsg`` logger only; the root logger and
    other libraries' logging are left alone. Calling it again replaces the
    handler it attached before. ``LINKMSG_LOG=debug`` (or ``info``) calls it at import.
    """
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    setattr(handler, _HANDLER_MARK, True)
    logger.addHandler(handler)
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


def _logging_from_env() -> None:
    level = os.environ.get("LINKMSG_LOG", "").strip().lower()
    if level in ("debug", "info", "warning", "error"):
        configure_logging(level)
    elif not logger.handlers:
        # The library convention: silent unless the application configures logging.
        logger.addHandler(logging.NullHandler())


_logging_from_env()

# ---------------------------------------------------------------- redaction


_LIVE: weakref.WeakSet[Redactor] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


def _live_redactors() -> list[Redactor]:
    with _LIVE_LOCK:
        return list(_LIVE)


class Redactor:
    """Scrubs known secret values, and values under secret-looking keys."""

    def __init__(self, secrets: tuple[str, ...] | list[str]) -> None:
        # Longest first so a secret containing another is replaced whole; tiny
        # values are skipped because replacing them would shred ordinary text.
        self._secrets = tuple(sorted({s for s in secrets if isinstance(s, str) and len(s) >= 6}, key=len, reverse=True))
        needles: set[bytes] = set()
        for secret in self._secrets:
            needles.add(secret.encode())
            for ascii_only in (True, False):
                escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
                needles.add(escaped.encode())
                needles.add(escaped.replace("/", "\\/").encode())
        self._needles = tuple(needles)
        if self._secrets:
            with _LIVE_LOCK:
                _LIVE.add(self)

    @property
    def active(self) -> bool:
        return bool(self._secrets)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: (REDACTED if k.lower() in _SECRET_HEADERS else self.text(v)) for k, v in headers.items()}

    def data(self, value: Any) -> Any:
        """For logging: known secrets scrubbed and values under secret-looking keys masked."""
        if isinstance(value, Mapping):
            return {
                k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def values(self, value: Any) -> Any:
        """For response bodies: known secret values scrubbed, keys and structure untouched."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {(self.text(k) if isinstance(k, str) else k): self.values(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.values(v) for v in value]
        return value

    def body(self, raw: bytes, data: Any) -> Any:
        """A decoded response body with known secrets scrubbed; walked only when one may be in it.

        The raw bytes are searched for each secret as written and as JSON
        escapes it; a body with other ``\\u`` escapes is searched once more
        re-encoded without escapes, so the walk is not paid for every emoji.
        """
        if not self._secrets:
            return data
        if any(needle in raw for needle in self._needles):
            return self.values(data)
        # memchr for a backslash first: most bodies have none, and a two-byte search is slow.
        if b"\\" in raw and b"\\u" in raw:
            try:
                plain = json.dumps(data, ensure_ascii=False)
            except (TypeError, ValueError):  # pragma: no cover - decoded JSON always encodes
                return self.values(data)
            if any(secret in plain for secret in self._secrets):
                return self.values(data)
        return data

    def exception(self, exc: BaseException) -> BaseException:
        """Scrub an exception's message and every text attribute, in place."""
        exc.args = tuple(self.text(a) if isinstance(a, str) else a for a in exc.args)
        for name, value in list(vars(exc).items()):
            if isinstance(value, str):
                setattr(exc, name, self.text(value))
        return exc


def _auth_secrets(provider: Provider, settings: HTTPSettings) -> list[str]:
    """Every credential the transport will send, whether or not the settings flag it."""
    found = list(settings.secret_values())
    try:
        headers = dict(provider.auth_headers())
        body = dict(provider.auth_body())
    except Exception:  # noqa: BLE001 - a broken hook fails later, where it is reported properly
        return found
    for key, value in headers.items():
        if key.lower() in _SECRET_HEADERS and isinstance(value, str):
            found.append(value)
            scheme, _, token = value.partition(" ")
            if token and scheme.lower() in ("bearer", "basic", "token"):
                found.append(token.strip())
    for key, value in body.items():
        if _SECRET_KEY.search(key) and isinstance(value, str):
            found.append(value)
    return found


# ---------------------------------------------------------------- rate limit

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hr|hour|d|day)s?\s*$", re.I)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(text: str) -> tuple[int, float]:
    """``"30/min"`` -> (30, 60.0). Also ``"5/10s"``, ``"1000/hour"``, ``"100/day"``."""
    match = _RATE.match(text) if isinstance(text, str) else None
    if not match or int(match.group(1)) < 1 or match.group(2) == "0":
        raise ValueError(f"rate_limit must look like '30/min', '5/10s' or '1000/hour', got {text!r}")
    count, mult, unit = int(match.group(1)), match.group(2), match.group(3)[0].lower()
    return count, float(mult or 1) * _UNIT[unit]


class RateLimiter:
    """At most ``count`` requests reach the vendor in any window of ``period`` seconds.

    A sorted log of the latest ``count`` request times, taken under a thread
    lock and waited out by the caller (``time.sleep`` or ``asyncio.sleep``), so
    sync and async clients of one account share it. A request is logged at the
    time it was allowed to start (:meth:`reserve`) and, once its attempt is
    over, moved to that later time (:meth:`settle`): the vendor counts a request
    when it arrives, which is somewhere before the answer, and a connection that
    is slow to open must not let the next window's requests arrive with it.
    """

    _shared: ClassVar[dict[tuple[str, str, str], RateLimiter]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, count: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count, self.period, self.clock = count, period, clock
        self._log: list[float] = []
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, provider: str, account: str, spec: str) -> RateLimiter:
        """The one limiter of this provider account and rate, for the whole process."""
        count, period = parse_rate(spec)
        key = (provider, account, spec.replace(" ", "").lower())
        with cls._shared_lock:
            limiter = cls._shared.get(key)
            if limiter is None:
                limiter = cls._shared[key] = cls(count, period)
            return limiter

    def reserve(self, max_wait: float = math.inf) -> float:
        """Reserve the next slot and return how long to wait for it.

        When that wait would exceed ``max_wait`` nothing is reserved and the
        wait is returned as a negative number (``-wait``).
        """
        return self.reserve_slot(max_wait)[0]

    def reserve_slot(self, max_wait: float = math.inf) -> tuple[float, float]:
        """Like :meth:`reserve`, with the slot's time (pass it to :meth:`settle` when the attempt ends)."""
        with self._lock:
            now = self.clock()
            log = self._log
            start = now
            if len(log) >= self.count:
                start = max(now, log[-self.count] + self.period)
            if start - now > max_wait:
                return -(start - now), start
            self._add(start)
            return start - now, start

    def settle(self, reserved: float, ended: float) -> None:
        """Count the request reserved for ``reserved`` at ``ended``, when its attempt was over."""
        if ended <= reserved:
            return
        with self._lock:
            log = self._log
            i = bisect.bisect_left(log, reserved)
            if i < len(log) and log[i] == reserved:  # equal times are interchangeable
                del log[i]
            self._add(ended)

    def _add(self, at: float) -> None:
        bisect.insort(self._log, at)
        excess = len(self._log) - self.count
        if excess > 0:  # only the latest `count` times decide the next wait
            del self._log[:excess]


# ---------------------------------------------------------------- wait hints


def _seconds_until(value: Any, now: float) -> float | None:
    """A wait from a number (seconds, or an epoch in s/ms) or a date (HTTP or ISO-8601)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            when: datetime | None
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                try:
                    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - now)
    else:
        return None
    if not math.isfinite(number):
        return None
    if number > 1e12:  # epoch milliseconds
        return max(0.0, number / 1000 - now)
    if number > 1e9:  # epoch seconds
        return max(0.0, number - now)
    return max(0.0, number)


def retry_after_from_headers(headers: Mapping[str, str], now: float, *, rate_limited: bool) -> float | None:
    """The wait a response asks for: ``Retry-After-Ms``, ``Retry-After`` (seconds or HTTP date),
    and, for a rate-limit answer only, ``X-RateLimit-Reset`` (seconds, epoch or ISO-8601).

    ``X-RateLimit-Reset`` is ignored on other errors: vendors send it on every
    response, and on a 500 it says when the daily quota resets, not when to retry.
    """
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            value = float(ms) / 1000
            if math.isfinite(value):
                return max(0.0, value)
        except ValueError:
            pass
    hint = headers.get("retry-after")
    if hint:
        wait = _seconds_until(hint, now)
        if wait is not None:
            return wait
    if rate_limited:
        reset = headers.get("x-ratelimit-reset")
        if reset:
            return _seconds_until(reset, now)
    return None


_BODY_HINTS = ("retry_after", "retryAfter", "holdUntil", "hold_until", "retry_at", "retryAt")


def retry_after_from_body(data: Any, now: float) -> float | None:
    """A wait named in a rate-limit error body (e.g. ConnectSafely's ``holdUntil``)."""
    for scope in (data, data.get("error") if isinstance(data, Mapping) else None):
        if isinstance(scope, Mapping):
            for key in _BODY_HINTS:
                if key in scope:
                    wait = _seconds_until(scope[key], now)
                    if wait is not None:
                        return wait
    return None


# ---------------------------------------------------------------- the sans-IO loop


@attrs.frozen(slots=True)
class Attempt:
    """Perform this HTTP request; send the loop the response or the exception."""

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    params: Mapping[str, Any] | None
    content: bytes | None = attrs.field(repr=False)
    timeout: httpx.Timeout
    number: int


@attrs.frozen(slots=True)
class Wait:
    """Sleep this many seconds, then send the loop ``None``."""

    seconds: float
    reason: str


Step: TypeAlias = Attempt | Wait
Outcome: TypeAlias = httpx.Response | BaseException | None

# Statuses the issue tracker and every vendor agree are the caller's problem.
_NEVER_RETRIED = frozenset({400, 401, 403, 404})
# Exceptions raised before a single byte of the request was written.
_NEVER_LEFT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
)
# Exceptions that mean the request itself is unusable: retrying cannot help.
_UNUSABLE: tuple[type[Exception], ...] = (
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
    httpx.LocalProtocolError,
    httpx.TooManyRedirects,
)
_MAX_TEXT = 2000


@attrs.frozen(slots=True)
class _Target:
    """What one attempt (or one redirect hop of it) asks for."""

    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, Any] | None
    content: bytes | None


_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
_PORTS = {"http": 80, "https": 443}


@attrs.define
class _Retry:
    wait: float
    error: LinkmsgError
    reason: str


@attrs.define
class RetryLoop:
    """The retry policy for one request, sans-IO; see the module docstring.

    ``clock`` is monotonic seconds, ``wall`` epoch seconds; tests pass fakes.
    """

    provider: Provider
    settings: HTTPSettings
    redactor: Redactor
    limiter: RateLimiter | None = None
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    rng: random.Random = attrs.field(factory=random.Random)

    # -- building ------------------------------------------------------------

    def prepare(self, request: Request) -> tuple[str, dict[str, str], dict[str, Any] | None, bytes | None]:
        headers = {"accept": "application/json", **self.provider.auth_headers()}
        body = request.json
        if isinstance(body, Mapping):
            extra = self.provider.auth_body()
            if extra:
                body = {**extra, **body}
        params = None
        if request.params:
            params = {k: _param(v) for k, v in request.params.items() if v is not None}
        content = None
        if body is not None:
            try:
                content = json.dumps(body, ensure_ascii=False).encode()
            except (TypeError, ValueError):
                raise TransportError(
                    f"{self.provider.name}: the request body could not be encoded as JSON (a provider bug)"
                ) from None
            headers["content-type"] = "application/json"
        url = self.settings.base_url.rstrip("/") + request.path
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s request %s %s params=%s json=%s headers=%s",
                self.provider.name,
                request.method,
                self.redactor.text(request.path),
                self.redactor.data(params or {}),
                self.redactor.data(body),
                self.redactor.headers(headers),
            )
        return url, headers, params, content

    def backoff(self, attempt: int) -> float:
        """Exponential from ``backoff``, capped at ``max_backoff``, jittered to 50-100 %."""
        base = min(self.settings.max_backoff, self.settings.backoff * 2.0 ** (attempt - 1))
        return float(base) * (0.5 + 0.5 * self.rng.random())

    def timeout(self, remaining: float) -> httpx.Timeout:
        """The configured timeouts, none longer than what is left of the deadline."""
        read = max(0.001, min(self.settings.timeout, remaining))
        return httpx.Timeout(read, connect=max(0.001, min(self.settings.connect_timeout, remaining)))

    # -- the loop --------------------------------------------------------------

    def run(self, request: Request) -> Generator[Step, Outcome, Response]:
        settings = self.settings
        started = self.clock()
        attempted_at = datetime.fromtimestamp(self.wall(), UTC)
        url, headers, params, content = self.prepare(request)
        first = _Target(request.method, url, headers, params, content)
        target = first
        hops = 0
        attempt = 0
        last: _Retry | None = None
        limiter = self.limiter
        while True:
            elapsed = self.clock() - started
            reserved = 0.0
            if limiter is not None:
                allowed = min(settings.max_retry_wait, settings.deadline - elapsed)
                wait, reserved = limiter.reserve_slot(max(0.0, allowed))
                if wait < 0:
                    raise self._throttled(-wait)
                if wait > 0:
                    logger.debug("%s waits %.2fs for its client-side rate limit", self.provider.name, wait)
                    yield Wait(wait, "client-side rate limit")
            if target is first:  # a redirect's hop belongs to the attempt that was redirected
                attempt += 1
            remaining = settings.deadline - (self.clock() - started)
            if remaining <= 0 and last is not None:
                raise self._gave_up(last.error, attempt - 1, self.clock() - started)
            timeout = self.timeout(remaining)
            clipped = remaining < settings.timeout
            outcome = yield Attempt(
                target.method, target.url, target.headers, target.params, target.content, timeout, attempt
            )
            if limiter is not None:
                limiter.settle(reserved, limiter.clock())
            if isinstance(outcome, httpx.Response) and outcome.status_code in _REDIRECTS:
                location = outcome.headers.get("location")
                if location is not None:
                    hops += 1
                    target = self._redirect(target, outcome.status_code, location, hops)
                    continue
            target = first
            hops = 0
            if isinstance(outcome, httpx.Response):
                result = self._on_response(request, outcome, attempt, attempted_at)
            elif isinstance(outcome, BaseException):
                result = self._on_exception(request, outcome, attempt, attempted_at)
                if clipped and last is not None and isinstance(outcome, httpx.TimeoutException):
                    # The deadline, not the vendor, cut this attempt short: report what went wrong before.
                    raise self._gave_up(last.error, attempt, self.clock() - started)
            else:
                raise TransportError(f"{self.provider.name}: the transport returned no response")
            if isinstance(result, Response):
                return result
            last = result
            elapsed = self.clock() - started
            if attempt > settings.max_retries or elapsed + result.wait > settings.deadline:
                raise self._gave_up(result.error, attempt, elapsed)
            logger.info(
                "%s %s %s: attempt %d failed (%s); retrying in %.2fs",
                self.provider.name,
                request.method,
                self.redactor.text(request.path),
                attempt,
                result.reason,
                result.wait,
            )
            yield Wait(result.wait, result.reason)

    def _redirect(self, target: _Target, status: int, location: str, hops: int) -> _Target:
        """Where a 3xx sends the request: same origin only, so credentials never travel.

        A vendor API that moves a path (ConnectSafely's 307 from
        ``recent-messages`` to ``conversations``) is followed as browsers and
        httpx do: 307/308 repeat the method and body, 303 (and 301/302 after a
        POST) become a GET without a body. Another host could be handed the
        API key in a header and the ``login_token`` in the body, so it is
        refused rather than followed.
        """
        name = self.provider.name
        if hops > _MAX_REDIRECTS:
            raise TransportError(f"{name}: the vendor redirected more than {_MAX_REDIRECTS} times; check base_url")
        try:
            origin = httpx.URL(target.url)
            if target.params:
                origin = origin.copy_merge_params(target.params)
            url = origin.join(location)
        except (httpx.InvalidURL, ValueError, TypeError):
            raise TransportError(f"{name}: the vendor redirected to an unusable location") from None
        same_host = (url.host, url.port or _PORTS.get(url.scheme)) == (
            origin.host,
            origin.port or _PORTS.get(origin.scheme),
        )
        upgrade = origin.scheme == "http" and url.scheme == "https"
        if url.scheme not in _PORTS or not same_host or not (url.scheme == origin.scheme or upgrade):
            where = self.redactor.text(f"{url.scheme}://{url.host}")
            raise TransportError(
                f"{name}: the vendor redirected to another origin ({where}); linkmsg does not send your "
                "credentials there. If the vendor moved, set base_url to its new address"
            )
        method, headers, content = target.method, target.headers, target.content
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method, content = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        logger.debug("%s: HTTP %d redirects to %s", name, status, self.redactor.text(url.raw_path.decode("ascii")))
        return _Target(method, str(url), headers, None, content)

    # -- judging one outcome -------------------------------------------------------

    def _on_exception(self, request: Request, exc: BaseException, attempt: int, attempted_at: datetime) -> _Retry:
        kind = type(exc).__name__
        if isinstance(exc, _UNUSABLE):
            raise TransportError(
                f"{self.provider.name}: the request could not be made ({kind}); "
                f"check base_url {self.redactor.text(self.settings.base_url)!r} and the credentials' format"
            )
        never_left = isinstance(exc, _NEVER_LEFT)
        if request.is_send and not never_left:
            raise self._unknown(request, kind, attempted_at)
        if not isinstance(exc, httpx.TransportError | httpx.DecodingError):
            # Not a network failure we understand (e.g. a custom transport's bug): do not retry blindly.
            raise TransportError(f"{self.provider.name}: the HTTP transport failed ({kind})")
        what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        error = TransportError(
            f"{self.provider.name}: the connection to the vendor {what} ({kind}); "
            "check the network, base_url and timeout settings"
        )
        return _Retry(self.backoff(attempt), error, kind)

    def _decode(self, http: httpx.Response) -> tuple[Response, bool]:
        """The response with its JSON decoded and secrets scrubbed; True when the body is not JSON."""
        raw = http.content
        headers = {k.lower(): v for k, v in http.headers.items()}
        try:
            url = self.redactor.text(str(http.url))
        except RuntimeError:  # a response a custom transport built without its request
            url = ""
        if not raw or raw.isspace():  # isspace() stops at the first other byte; strip() copies
            return Response(http.status_code, headers, None, url), False
        try:
            data = _loads(raw)
        except Exception:  # noqa: BLE001 - any decoder failure (bad JSON, bad UTF-8, nesting) means "not JSON"
            text = raw[:_MAX_TEXT].decode("utf-8", "replace")
            return Response(http.status_code, headers, None, url, self.redactor.text(text)), True
        data = self.redactor.body(raw, data)
        return Response(http.status_code, headers, data, url), False

    def _error_for(self, response: Response) -> LinkmsgError | None:
        try:
            return self.provider.error_for(response)
        except LinkmsgError as exc:
            return exc
        except Exception:  # noqa: BLE001 - a provider bug must not leak a raw exception
            return ResponseShapeError(
                f"{self.provider.name} answered HTTP {response.status} with an error body linkmsg could not read",
                provider=self.provider.name,
                status=response.status,
            )

    def _on_response(
        self, request: Request, http: httpx.Response, attempt: int, attempted_at: datetime
    ) -> Response | _Retry:
        response, not_json = self._decode(http)
        error = self._error_for(response)
        if error is None and 300 <= http.status_code < 400:
            error = ResponseShapeError(
                f"{self.provider.name} answered HTTP {http.status_code}, a redirect without a Location to follow",
                provider=self.provider.name,
                status=http.status_code,
            )
        if error is None and not_json:
            kind = "an HTML page" if "html" in response.headers.get("content-type", "") else "a body that is not JSON"
            error = ResponseShapeError(
                f"{self.provider.name} answered HTTP {http.status_code} with {kind}",
                provider=self.provider.name,
                status=http.status_code,
            )
        logger.debug(
            "%s response %s %s: HTTP %d%s",
            self.provider.name,
            request.method,
            self.redactor.text(request.path),
            http.status_code,
            f" ({type(error).__name__})" if error else "",
        )
        if error is None:
            return response
        self.redactor.exception(error)
        if not isinstance(error, ProviderError):
            raise error
        # A 2xx body we could not read may be a proxy's page or a cut answer: worth one more read.
        transient = error.retryable or (not_json and http.status_code < 400)
        if error.status in _NEVER_RETRIED:
            transient = False
        hint = self._wait_hint(error, response)
        if isinstance(error, RateLimitError) and hint is not None:
            error.retry_after = hint  # also on an error that is not retried: the caller can wait
        if request.is_send:
            if transient and not isinstance(error, RateLimitError):
                raise self._unknown(request, f"HTTP {http.status_code}", attempted_at)
            raise error
        if not transient:
            raise error
        if hint is not None and hint > self.settings.max_retry_wait:
            raise self._too_long(error, hint)
        wait = hint if hint is not None else self.backoff(attempt)
        return _Retry(wait, error, f"HTTP {http.status_code}")

    def _wait_hint(self, error: ProviderError, response: Response) -> float | None:
        """The longest wait the vendor asked for: headers, and for a rate limit the provider's and the body's."""
        now = self.wall()
        rate_limited = isinstance(error, RateLimitError)
        hints = [retry_after_from_headers(response.headers, now, rate_limited=rate_limited)]
        if isinstance(error, RateLimitError):
            hints += [error.retry_after, retry_after_from_body(response.data, now)]
        known = [h for h in hints if h is not None]
        return max(known) if known else None

    # -- errors ------------------------------------------------------------------------

    def _too_long(self, error: ProviderError, wait: float) -> RateLimitError:
        if isinstance(error, RateLimitError):
            error.retry_after = wait
            return error
        text = error.args[0] if error.args else ""
        limited = RateLimitError(
            f"{text} (the vendor asks to wait {wait:.0f}s, more than max_retry_wait={self.settings.max_retry_wait:g}s; "
            "retry later)",
            retry_after=wait,
            provider=error.provider,
            status=error.status,
            code=error.code,
            vendor_message=error.vendor_message,
        )
        return limited

    def _throttled(self, wait: float) -> RateLimitError:
        return RateLimitError(
            f"{self.provider.name}: the client-side rate_limit {self.settings.rate_limit!r} for this account "
            f"would hold this call {wait:.1f}s, beyond max_retry_wait or the deadline; try again later",
            retry_after=wait,
            provider=self.provider.name,
        )

    def _gave_up(self, error: LinkmsgError, attempt: int, elapsed: float) -> LinkmsgError:
        if attempt > 1 and error.args and isinstance(error.args[0], str):
            error.args = (f"{error.args[0]} (gave up after {attempt} attempts in {elapsed:.1f}s)", *error.args[1:])
        logger.debug("%s: giving up: %s", self.provider.name, error)
        return error

    def _unknown(self, request: Request, why: str, attempted_at: datetime) -> SendOutcomeUnknown:
        logger.warning("%s: a send may or may not have reached the vendor (%s)", self.provider.name, why)
        return SendOutcomeUnknown(
            f"{self.provider.name}: the send may or may not have reached the vendor ({why}); "
            "it was not retried. Call client.reconcile_send(error) to check whether it landed.",
            provider=self.provider.name,
            text=self.redactor.text(_find_text(request.json)),
            attempted_at=attempted_at,
        )


def _find_text(body: Any, depth: int = 0) -> str:
    """The message text in a send body, wherever the vendor puts it (best effort)."""
    if isinstance(body, Mapping) and depth < 4:
        for key, value in body.items():
            if isinstance(value, str) and isinstance(key, str) and ("text" in key or key in ("message", "body")):
                return value
        for value in body.values():
            found = _find_text(value, depth + 1)
            if found:
                return found
    return ""


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# ---------------------------------------------------------------- drivers


class _Base:
    def __init__(self, provider: Provider, settings: HTTPSettings, client_headers: httpx.Headers | None = None) -> None:
        self.provider = provider
        self.settings = settings
        # The client's defaults (user-agent, accept-encoding), merged once rather than per request.
        self._client_headers = dict(client_headers.items()) if client_headers is not None else {}
        self._urls: dict[str, httpx.URL] = {}
        self.redactor = Redactor(_auth_secrets(provider, settings))
        self.rng = random.Random()  # one per transport: seeding a Random costs more than a request's bookkeeping
        try:
            self.limiter = (
                RateLimiter.shared(provider.name, settings.account_key(), settings.rate_limit)
                if settings.rate_limit
                else None
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider.name!r} {self.redactor.text(self.settings.base_url)!r}>"

    def loop(self) -> RetryLoop:
        return RetryLoop(self.provider, self.settings, self.redactor, self.limiter, rng=self.rng)

    def _request(self, step: Attempt) -> httpx.Request:
        """The attempt as an ``httpx.Request``: built once, without the client's per-call merging."""
        url = self._urls.get(step.url)
        if url is None:
            if len(self._urls) >= 256:  # a provider's paths are few; query strings go in params
                self._urls.clear()
            url = self._urls[step.url] = httpx.URL(step.url)
        return httpx.Request(
            step.method,
            url,
            params=step.params,
            headers={**self._client_headers, **step.headers},
            content=step.content,
            extensions={"timeout": step.timeout.as_dict()},
        )


class SyncTransport(_Base):
    """Drives :class:`RetryLoop` with ``httpx.Client`` and ``time.sleep``."""

    def __init__(self, provider: Provider, settings: HTTPSettings, client: httpx.Client) -> None:
        super().__init__(provider, settings, client.headers)
        self.client = client

    def _perform(self, step: Attempt) -> httpx.Response | Exception:
        try:
            # Redirects: the loop follows them (same origin only).
            return self.client.send(self._request(step), follow_redirects=False)
        except Exception as exc:  # noqa: BLE001 - the loop judges every failure (and raises outside this block)
            return exc

    def send(self, request: Request) -> Response:
        loop = self.loop().run(request)
        step = next(loop)
        while True:
            outcome: Outcome = None
            if isinstance(step, Wait):
                time.sleep(step.seconds)
            else:
                outcome = self._perform(step)
            try:
                step = loop.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]


class AsyncTransport(_Base):
    """Drives :class:`RetryLoop` with ``httpx.AsyncClient`` and ``asyncio.sleep``.

    ``semaphore`` bounds the requests in flight; clients made by
    ``with_options`` pass their parent's, so the bound holds across them. A
    request takes its slot before it consults the rate limiter and keeps it
    through the rate-limit wait and the attempt, so requests leave in the order
    and at the times the limiter granted (reserving first and queueing for a
    slot after would let queued requests leave in bursts). The slot is given
    back before the response is decoded and during backoff between attempts.
    ``AsyncClient`` takes an operation's first slot before the provider builds
    the request and hands it to :meth:`send` (``slot_held``), so calls queued
    behind the bound do no work ahead of the requests that hold a slot.
    """

    def __init__(
        self,
        provider: Provider,
        settings: HTTPSettings,
        client: httpx.AsyncClient,
        semaphore: asyncio.Semaphore | None = None,
        direct: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(provider, settings, client.headers)
        self.client = client
        self.semaphore = semaphore or asyncio.Semaphore(settings.max_concurrency)
        self.direct = direct

    async def _perform(self, step: Attempt) -> httpx.Response | Exception:
        direct = self.direct
        try:
            if direct is not None:
                return await self._perform_direct(direct, step)
            return await self.client.send(self._request(step), follow_redirects=False)
        except Exception as exc:  # noqa: BLE001 - the loop judges every failure (and raises outside this block)
            return exc

    async def _perform_direct(self, transport: httpx.AsyncBaseTransport, step: Attempt) -> httpx.Response:
        # The client layer adds nothing linkmsg uses here (redirects are the loop's, there is
        # no cookie to keep): one Request, straight to the transport, about 70 µs less a call.
        request = self._request(step)
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def send(self, request: Request, *, slot_held: bool = False) -> Response:
        """Perform ``request`` with retries; ``slot_held``: the caller took a slot of ``semaphore`` for it.

        Either way the slot is released before this returns or raises.
        """
        semaphore = self.semaphore
        if not slot_held:
            await semaphore.acquire()
        held = True
        try:
            loop = self.loop().run(request)
            step = next(loop)  # the first rate-limit reservation happens here, inside the slot
            while True:
                outcome: Outcome = None
                if isinstance(step, Wait):
                    # Holding a slot, this is the rate limiter's wait; otherwise a backoff,
                    # after which the slot is taken again before the next reservation.
                    await asyncio.sleep(step.seconds)
                    if not held:
                        await semaphore.acquire()
                        held = True
                else:
                    outcome = await self._perform(step)
                    semaphore.release()
                    held = False
                    if semaphore.locked():
                        # Requests queue for the slot just freed: two turns of the event loop let
                        # them go out before this response is decoded and mapped, so that CPU
                        # work overlaps their latency instead of delaying them.
                        await asyncio.sleep(0)
                        await asyncio.sleep(0)
                try:
                    step = loop.send(outcome)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
        finally:
            if held:
                semaphore.release()
