"""A lean HTTP/1.1 transport for :class:`linkmsg.AsyncClient` (opt-in).

httpx's default async connection pool costs more per request the more
connections it holds open; at the 50-way concurrency a full inbox sync uses,
the pool rather than the network sets the pace (``/work/shared/perf-notes.md``
measured 4.5x the latency bound). This module is a drop-in
:class:`httpx.AsyncBaseTransport` on :func:`asyncio.open_connection` with an
O(1) keep-alive pool per origin. It needs nothing beyond the standard library
and httpx, so the default install stays as it is::

    from linkmsg.asynchttp import AsyncHTTPTransport

    async with linkmsg.AsyncClient("linkup-v2", api_key=..., account_id=...,
                                   http_transport=AsyncHTTPTransport()) as client:
        ...

``AsyncClient`` drives a transport it is given directly rather than through
``httpx.AsyncClient`` (redirects are followed by linkmsg's retry loop; there
is no cookie jar), unless environment proxies apply: then httpx routes them.

Behaviour matches httpx's own transport where linkmsg depends on it: the same
exception classes (``ConnectError``, ``ConnectTimeout``, ``ReadTimeout``,
``WriteTimeout``, ``PoolTimeout``, ``ReadError``, ``WriteError``,
``RemoteProtocolError``, ``UnsupportedProtocol``) for the same failures, the
connect/read/write/pool timeouts from ``request.extensions["timeout"]``, and
ordinary :class:`httpx.Response` objects, so content decoding, redirects,
retries, error mapping and redaction happen above it exactly as before
(``tests/test_asynchttp.py`` checks this side by side with httpx's transport).

Limits: HTTP/1.1 only (no HTTP/2, no proxies); response bodies are read in full
before the response is returned (fine for JSON APIs, not meant for large
downloads with ``client.stream``). The read timeout applies to each read from
the socket, as in httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType

import httpx

__all__ = ["AsyncHTTPTransport"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NO_BODY_STATUS = frozenset({204, 304})
_MAX_HEAD = 64 * 1024


def _readable(fd: int) -> bool:
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class _Connection:
    __slots__ = ("expires", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.expires = 0.0

    def usable(self, now: float) -> bool:
        reader = self.reader
        if (
            now >= self.expires
            or reader.at_eof()
            or reader.exception() is not None
            or self.writer.transport.is_closing()
        ):
            return False
        # The event loop may not have seen the server close it yet (a busy loop):
        # an idle connection that is readable has been closed (or sent junk).
        sock = self.writer.get_extra_info("socket")
        return sock is None or not _readable(sock.fileno())

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # its event loop may already be closed
            self.writer.transport.abort()


class AsyncHTTPTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio streams with a keep-alive pool per origin.

    ``max_connections`` bounds requests in flight (a request waits for a slot,
    up to the pool timeout, then raises :class:`httpx.PoolTimeout`);
    ``max_keepalive_connections`` bounds idle connections kept for reuse, each
    for at most ``keepalive_expiry`` seconds. ``verify`` and ``cert`` mean
    what they mean to :class:`httpx.AsyncHTTPTransport`.
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        cert: str | tuple[str, str] | tuple[str, str, str] | None = None,
        trust_env: bool = True,
        max_connections: int | None = 100,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self._verify = verify
        self._cert = cert
        self._trust_env = trust_env
        self._ssl: ssl.SSLContext | None = None
        self._max_connections = max_connections
        self._max_idle = max_keepalive_connections if max_keepalive_connections is not None else max_connections
        self._expiry = keepalive_expiry
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._idle_count = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None

    # -- pool -----------------------------------------------------------------

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Connections and the semaphore belong to one event loop; start over on another."""
        self._drop_idle()
        self._loop = loop
        self._slots = asyncio.Semaphore(self._max_connections) if self._max_connections else None

    def _drop_idle(self) -> None:
        for queue in self._idle.values():
            for conn in queue:
                conn.close()
        self._idle.clear()
        self._idle_count = 0

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            if isinstance(self._verify, ssl.SSLContext) and self._cert is None:
                self._ssl = self._verify
            else:
                ctx = httpx.create_ssl_context(verify=self._verify, cert=self._cert, trust_env=self._trust_env)
                ctx.set_alpn_protocols(["http/1.1"])
                self._ssl = ctx
        return self._ssl

    def _checkout(self, origin: tuple[str, str, int]) -> _Connection | None:
        queue = self._idle.get(origin)
        if not queue:
            return None
        now = time.monotonic()
        while queue:
            conn = queue.pop()  # most recently used first: the likeliest to be alive
            self._idle_count -= 1
            if conn.usable(now):
                return conn
            conn.close()
        return None

    def _checkin(self, origin: tuple[str, str, int], conn: _Connection) -> None:
        if self._max_idle is not None and self._idle_count >= self._max_idle:
            conn.close()
            return
        conn.expires = time.monotonic() + self._expiry
        self._idle.setdefault(origin, deque()).append(conn)
        self._idle_count += 1

    async def _connect(
        self, request: httpx.Request, scheme: str, host: str, port: int, timeout: float | None
    ) -> _Connection:
        context = self._ssl_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=context, server_hostname=host if context is not None else None, limit=_MAX_HEAD
                )
        except TimeoutError:
            raise httpx.ConnectTimeout("timed out while connecting", request=request) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        return _Connection(reader, writer)

    # -- request ----------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{scheme}://'."
                if scheme
                else "Request URL is missing an 'http://' or 'https://' protocol.",
                request=request,
            )
        host = url.raw_host.decode("ascii")
        if not host:
            raise httpx.UnsupportedProtocol("Request URL is missing a host.", request=request)
        port = url.port or _DEFAULT_PORTS[scheme]
        origin = (scheme, host, port)
        timeouts = request.extensions.get("timeout") or {}

        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._bind(loop)
        slots = self._slots
        if slots is not None:
            if slots.locked():
                try:
                    async with asyncio.timeout(timeouts.get("pool")):
                        await slots.acquire()
                except TimeoutError:
                    raise httpx.PoolTimeout("timed out waiting for a connection slot", request=request) from None
            else:
                await slots.acquire()
        try:
            conn = self._checkout(origin)
            if conn is None:
                conn = await self._connect(request, scheme, host, port, timeouts.get("connect"))
            try:
                status, headers, reason, body, reusable = await self._exchange(conn, request, timeouts)
            except BaseException:
                conn.close()
                raise
            if reusable:
                self._checkin(origin, conn)
            else:
                conn.close()
        finally:
            if slots is not None:
                slots.release()
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(body),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def _exchange(
        self, conn: _Connection, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, bytes, bool]:
        await _write(conn.writer, request, timeouts.get("write"))
        read_timeout = timeouts.get("read")
        try:
            async with asyncio.timeout(read_timeout) as deadline:
                return await _read_response(conn.reader, request, deadline, read_timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out while reading the response", request=request) from None

    async def aclose(self) -> None:
        self._drop_idle()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()


# ---------------------------------------------------------------- wire format


async def _write(writer: asyncio.StreamWriter, request: httpx.Request, timeout: float | None) -> None:
    chunked = False
    parts = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for key, value in request.headers.raw:
        parts += (key, b": ", value, b"\r\n")
        if key.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    parts.append(b"\r\n")
    try:
        body: bytes | None = request.content
    except httpx.RequestNotRead:
        body = None  # a streaming body
    try:
        async with asyncio.timeout(timeout):
            if body is not None:
                if chunked:
                    parts += (b"%x\r\n" % len(body), body, b"\r\n0\r\n\r\n") if body else (b"0\r\n\r\n",)
                else:
                    parts.append(body)
                writer.write(b"".join(parts))
            else:
                writer.write(b"".join(parts))
                async for chunk in _chunks(request.stream):
                    if chunk:
                        writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                        await writer.drain()
                if chunked:
                    writer.write(b"0\r\n\r\n")
            await writer.drain()
    except TimeoutError:
        raise httpx.WriteTimeout("timed out while sending the request", request=request) from None
    except OSError as exc:
        raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc


async def _chunks(stream: httpx.SyncByteStream | httpx.AsyncByteStream) -> AsyncIterator[bytes]:
    if isinstance(stream, httpx.AsyncByteStream):
        async for chunk in stream:
            yield chunk
    else:
        for chunk in stream:
            yield chunk


def _disconnected(request: httpx.Request, got_any: bool) -> httpx.RemoteProtocolError:
    if not got_any:
        return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    return httpx.RemoteProtocolError("peer closed connection without sending complete message body", request=request)


async def _read_response(
    reader: asyncio.StreamReader,
    request: httpx.Request,
    deadline: asyncio.Timeout,
    read_timeout: float | None,
) -> tuple[int, list[tuple[bytes, bytes]], bytes, bytes, bool]:
    """Status, raw headers, reason, body and whether the connection can be reused."""
    loop = asyncio.get_running_loop()

    def extend() -> None:
        if read_timeout is not None:
            deadline.reschedule(loop.time() + read_timeout)

    got_any = False
    try:
        while True:  # skip informational (1xx) responses
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                raise _disconnected(request, got_any or bool(exc.partial)) from None
            got_any = True
            extend()
            status_line, _, header_block = head[:-4].partition(b"\r\n")
            version, _, rest = status_line.partition(b" ")
            code, _, reason = rest.partition(b" ")
            if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
                raise httpx.RemoteProtocolError(f"malformed status line {status_line[:80]!r}", request=request)
            status = int(code)
            if status >= 200 or status == 101:
                break
        headers: list[tuple[bytes, bytes]] = []
        length: int | None = None
        chunked = False
        keep_alive = version == b"HTTP/1.1"
        if header_block:
            for line in header_block.split(b"\r\n"):
                key, sep, value = line.partition(b":")
                if not sep or not key or key != key.strip():
                    raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}", request=request)
                value = value.strip()
                lower = key.lower()
                if lower == b"content-length":
                    if not value.isdigit() or (length is not None and length != int(value)):
                        raise httpx.RemoteProtocolError("invalid Content-Length header", request=request)
                    length = int(value)
                elif lower == b"transfer-encoding":
                    chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
                elif lower == b"connection":
                    tokens = {t.strip() for t in value.lower().split(b",")}
                    if b"close" in tokens:
                        keep_alive = False
                    elif b"keep-alive" in tokens:
                        keep_alive = True
                headers.append((key, value))

        if request.method == "HEAD" or status in _NO_BODY_STATUS or status < 200:
            return status, headers, reason, b"", keep_alive and status != 101
        if chunked:
            parts = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                extend()
                size_text = size_line.split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise httpx.RemoteProtocolError("invalid chunk size", request=request) from None
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                        extend()
                    break
                chunk = await reader.readexactly(size + 2)
                extend()
                if chunk[-2:] != b"\r\n":
                    raise httpx.RemoteProtocolError("malformed chunk", request=request)
                parts.append(chunk[:-2])
            return status, headers, reason, b"".join(parts), keep_alive
        if length is not None:
            body = await reader.readexactly(length) if length else b""
            return status, headers, reason, body, keep_alive
        body = await reader.read()  # delimited by the end of the connection
        return status, headers, reason, body, False
    except asyncio.IncompleteReadError:
        raise _disconnected(request, True) from None
    except asyncio.LimitOverrunError:
        raise httpx.RemoteProtocolError("response head or chunk line too long", request=request) from None
    except OSError as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
