"""HTTP transport: auth, timeouts, retries, rate limiting, error mapping, redaction.

The decisions (what to retry, how long to wait, which error to raise) live in
:class:`RetryState`, which does no I/O. :class:`SyncTransport` and
:class:`AsyncTransport` are thin loops around it, so sync and async behave the
same by construction.
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs
import httpx

from linkmsg.errors import (
    LinkmsgError,
    ProviderError,
    RateLimitError,
    ResponseShapeError,
    SendOutcomeUnknown,
    ServerError,
    TransportError,
)
from linkmsg.provider import HTTPSettings, Provider, Request, Response

try:  # optional speed-up: `pip install linkmsg[fast]`
    import orjson

    _loads: Any = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

__all__ = ["AsyncTransport", "RateLimiter", "Redactor", "RetryState", "SyncTransport", "logger"]

logger = logging.getLogger("linkmsg")
if os.environ.get("LINKMSG_LOG", "").lower() == "debug":  # opt-in, like httpx's own
    logging.basicConfig()
    logger.setLevel(logging.DEBUG)

_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "set-cookie", "proxy-authorization"})
_SECRET_KEY = re.compile(r"(token|secret|password|api[_-]?key|authorization|cookie)", re.I)
REDACTED = "***"


class Redactor:
    """Scrubs known secret values, and values under secret-looking keys."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        # Longest first so a secret containing another is replaced whole.
        self._secrets = tuple(sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True))

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: (REDACTED if k.lower() in _SECRET_HEADERS else self.text(v)) for k, v in headers.items()}

    def data(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def exception(self, exc: BaseException) -> BaseException:
        """Scrub an exception's message and text attributes in place."""
        exc.args = tuple(self.text(a) if isinstance(a, str) else a for a in exc.args)
        for attr in ("vendor_message", "text"):
            value = getattr(exc, attr, None)
            if isinstance(value, str):
                setattr(exc, attr, self.text(value))
        return exc


# ---------------------------------------------------------------- rate limit

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hr|hour|d|day)s?\s*$", re.I)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(text: str) -> tuple[int, float]:
    """``"30/min"`` -> (30, 60.0). Also ``"5/10s"``, ``"1000/hour"``."""
    match = _RATE.match(text)
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"rate_limit must look like '30/min', '5/10s' or '1000/hour', got {text!r}")
    count, mult, unit = int(match.group(1)), match.group(2), match.group(3)[0].lower()
    return count, float(mult or 1) * _UNIT[unit]


class RateLimiter:
    """At most ``count`` requests in any window of ``period`` seconds.

    A sliding log of reserved start times; reservations are taken under a
    thread lock and waited out by the caller (``time.sleep`` or
    ``asyncio.sleep``), so sync and async clients of one account share it.
    """

    _shared: dict[tuple[str, str, str], RateLimiter] = {}
    _shared_lock = threading.Lock()

    def __init__(self, count: int, period: float) -> None:
        self.count, self.period = count, period
        self._log: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, provider: str, account: str, spec: str) -> RateLimiter:
        count, period = parse_rate(spec)
        key = (provider, account, spec)
        with cls._shared_lock:
            limiter = cls._shared.get(key)
            if limiter is None:
                limiter = cls._shared[key] = cls(count, period)
            return limiter

    def reserve(self) -> float:
        """Reserve the next slot; return how long to wait before using it."""
        with self._lock:
            now = time.monotonic()
            while self._log and self._log[0] <= now - self.period and len(self._log) > self.count:
                self._log.popleft()
            start = now
            if len(self._log) >= self.count:
                start = max(now, self._log[-self.count] + self.period)
            self._log.append(start)
            while len(self._log) > self.count:
                self._log.popleft()
            return start - now


# ---------------------------------------------------------------- retry policy


def _retry_after_header(headers: Mapping[str, str], now: float) -> float | None:
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, when.timestamp() - now)
    reset = headers.get("x-ratelimit-reset")
    if reset:
        reset = reset.strip()
        try:
            number = float(reset)
        except ValueError:
            try:
                stamp = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            except ValueError:
                return None
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=UTC)
            return max(0.0, stamp.timestamp() - now)
        # A reset far in the past as epoch means "seconds from now" in some APIs.
        return max(0.0, number - now) if number > 1e9 else max(0.0, number)
    return None


@attrs.define
class RetryState:
    """Retry decisions for one request; sans-IO.

    ``on_exception``/``on_error`` return how long to wait before the next
    attempt, or raise the error the caller should see.
    """

    provider: str
    request: Request
    settings: HTTPSettings
    started: float = attrs.field(factory=time.monotonic)
    attempts: int = 0
    wall_started: datetime = attrs.field(factory=lambda: datetime.now(UTC))

    def _backoff(self) -> float:
        cap = min(self.settings.max_backoff, self.settings.backoff * 2 ** (self.attempts - 1))
        return random.uniform(0, cap)  # noqa: S311 - jitter, not crypto

    def _allow(self, wait: float, error: LinkmsgError) -> float:
        if self.attempts > self.settings.max_retries:
            raise error
        if time.monotonic() - self.started + wait > self.settings.deadline:
            raise error
        return wait

    def _unknown(self, why: str) -> SendOutcomeUnknown:
        body = self.request.json if isinstance(self.request.json, Mapping) else {}
        text = next((v for k, v in body.items() if "text" in k or k in ("message", "body")), "")
        return SendOutcomeUnknown(
            f"{self.provider}: the send may or may not have reached the vendor ({why}); "
            "it was not retried. Call client.reconcile_send(error) to check whether it landed.",
            provider=self.provider,
            text=text if isinstance(text, str) else "",
            attempted_at=self.wall_started,
        )

    def on_exception(self, exc: httpx.HTTPError) -> float:
        self.attempts += 1
        never_left = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol)
        if self.request.is_send and not never_left:
            raise self._unknown(type(exc).__name__) from None
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            raise TransportError(f"{self.provider}: invalid base_url ({exc})") from None
        error = TransportError(
            f"{self.provider}: {type(exc).__name__} talking to the vendor "
            f"after {self.attempts} attempt(s); check the network and base_url"
        )
        return self._allow(self._backoff(), error)

    def on_bad_body(self, response: httpx.Response) -> float:
        self.attempts += 1
        kind = "an HTML page" if "html" in response.headers.get("content-type", "") else "a body that is not JSON"
        error = ResponseShapeError(
            f"{self.provider} answered HTTP {response.status_code} with {kind}",
            provider=self.provider,
            status=response.status_code,
        )
        if self.request.is_send:
            raise self._unknown(f"HTTP {response.status_code} with an unreadable body") from None
        return self._allow(self._backoff(), error)

    def on_error(self, error: ProviderError, headers: Mapping[str, str]) -> float:
        self.attempts += 1
        if self.request.is_send:
            if isinstance(error, ServerError):
                raise self._unknown(f"HTTP {error.status}") from None
            raise error
        if not error.retryable:
            raise error
        wait = self._backoff()
        hinted = _retry_after_header(headers, time.time())
        if isinstance(error, RateLimitError):
            if hinted is not None:
                error.retry_after = max(hinted, error.retry_after or 0.0)
            if error.retry_after is not None:
                if error.retry_after > self.settings.max_retry_wait:
                    raise error
                wait = error.retry_after
        elif hinted is not None:
            wait = hinted
        return self._allow(wait, error)


# ---------------------------------------------------------------- drivers


class _Base:
    def __init__(self, provider: Provider, settings: HTTPSettings) -> None:
        self.provider = provider
        self.settings = settings
        self.redactor = Redactor(settings.secret_values())
        self.limiter = (
            RateLimiter.shared(provider.name, settings.account_key(), settings.rate_limit)
            if settings.rate_limit
            else None
        )
        self.timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)

    def build(self, request: Request) -> dict[str, Any]:
        headers = {"accept": "application/json", **self.provider.auth_headers()}
        body = request.json
        if isinstance(body, Mapping):
            extra = self.provider.auth_body()
            if extra:
                body = {**extra, **body}
        kwargs: dict[str, Any] = {"headers": headers}
        if request.params:
            kwargs["params"] = {k: _param(v) for k, v in request.params.items() if v is not None}
        if body is not None:
            kwargs["content"] = json.dumps(body, ensure_ascii=False).encode()
            headers["content-type"] = "application/json"
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s %s params=%s json=%s headers=%s",
                self.provider.name,
                request.method,
                request.path,
                self.redactor.data(dict(request.params or {})),
                self.redactor.data(body),
                self.redactor.headers(headers),
            )
        return kwargs

    def decode(self, http: httpx.Response) -> Response | None:
        """The decoded response, or None when the body is not JSON."""
        raw = http.content
        data: Any = None
        if raw.strip():
            try:
                data = _loads(raw)
            except ValueError:
                return None
        headers = {k.lower(): v for k, v in http.headers.items()}
        return Response(http.status_code, headers, data, str(http.url))

    def check(self, response: Response, http: httpx.Response) -> ProviderError | None:
        try:
            error = self.provider.error_for(response)
        except LinkmsgError as exc:
            raise self.redactor.exception(exc) from None
        except Exception:  # noqa: BLE001 - a provider bug must not leak a raw exception
            error = ResponseShapeError(
                f"{self.provider.name} answered HTTP {response.status} with an unreadable error body",
                provider=self.provider.name,
                status=response.status,
            )
        if error is not None:
            self.redactor.exception(error)
            logger.debug("%s error: %s", self.provider.name, error)
        return error

    def non_json_error(self, http: httpx.Response) -> ProviderError | None:
        """For an error status with a non-JSON body (HTML page), the status error."""
        if http.status_code < 400:
            return None
        response = Response(http.status_code, {k.lower(): v for k, v in http.headers.items()}, None)
        return self.check(response, http)

    def _log_retry(self, state: RetryState, wait: float, why: str) -> None:
        logger.info(
            "%s %s %s: retry %d in %.2fs (%s)",
            self.provider.name,
            state.request.method,
            state.request.path,
            state.attempts,
            wait,
            self.redactor.text(why),
        )


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class SyncTransport(_Base):
    def __init__(self, provider: Provider, settings: HTTPSettings, client: httpx.Client) -> None:
        super().__init__(provider, settings)
        self.client = client

    def send(self, request: Request) -> Response:
        state = RetryState(self.provider.name, request, self.settings)
        url = self.settings.base_url.rstrip("/") + request.path
        kwargs = self.build(request)
        while True:
            if self.limiter is not None:
                delay = self.limiter.reserve()
                if delay > 0:
                    time.sleep(delay)
            try:
                http = self.client.request(request.method, url, timeout=self.timeout, **kwargs)
            except httpx.HTTPError as exc:
                wait = state.on_exception(exc)
                self._log_retry(state, wait, type(exc).__name__)
                time.sleep(wait)
                continue
            response = self.decode(http)
            if response is None:
                error = self.non_json_error(http)
                wait = state.on_error(error, http.headers) if error else state.on_bad_body(http)
            else:
                error = self.check(response, http)
                if error is None:
                    return response
                wait = state.on_error(error, response.headers)
            self._log_retry(state, wait, f"HTTP {http.status_code}")
            time.sleep(wait)


class AsyncTransport(_Base):
    def __init__(self, provider: Provider, settings: HTTPSettings, client: httpx.AsyncClient) -> None:
        super().__init__(provider, settings)
        self.client = client
        self._semaphore: asyncio.Semaphore | None = None

    async def send(self, request: Request) -> Response:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.settings.max_concurrency)
        state = RetryState(self.provider.name, request, self.settings)
        url = self.settings.base_url.rstrip("/") + request.path
        kwargs = self.build(request)
        while True:
            if self.limiter is not None:
                delay = self.limiter.reserve()
                if delay > 0:
                    await asyncio.sleep(delay)
            try:
                async with self._semaphore:
                    http = await self.client.request(request.method, url, timeout=self.timeout, **kwargs)
            except httpx.HTTPError as exc:
                wait = state.on_exception(exc)
                self._log_retry(state, wait, type(exc).__name__)
                await asyncio.sleep(wait)
                continue
            response = self.decode(http)
            if response is None:
                error = self.non_json_error(http)
                wait = state.on_error(error, http.headers) if error else state.on_bad_body(http)
            else:
                error = self.check(response, http)
                if error is None:
                    return response
                wait = state.on_error(error, response.headers)
            self._log_retry(state, wait, f"HTTP {http.status_code}")
            await asyncio.sleep(wait)
