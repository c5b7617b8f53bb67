"""linkmsg.asynchttp.AsyncHTTPTransport behaves like httpx's own async transport.

Every scenario runs against a raw-socket server on 127.0.0.1 through both
transports, and must give the same result: same status, headers that matter
and body, or the same httpx exception class. Then the linkmsg client on top
(retries, error mapping, send safety) is checked with both, against the fake
vendor server with faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from linkmsg.asynchttp import AsyncHTTPTransport

Handler = Callable[[socket.socket, bytes], None]


# ---------------------------------------------------------------- a scriptable server


def _read_request(conn: socket.socket, buffer: bytearray) -> bytes | None:
    """One request (head + body) from ``conn``; None at EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    buffer[:] = rest
    lines = head.split(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
    body = b""
    if b"content-length" in headers:
        size = int(headers[b"content-length"])
        while len(buffer) < size:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            buffer += chunk
        body, buffer[:] = bytes(buffer[:size]), buffer[size:]
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        parts = []
        while True:
            while b"\r\n" not in buffer:
                buffer += conn.recv(65536)
            line, _, rest = bytes(buffer).partition(b"\r\n")
            buffer[:] = rest
            size = int(line.split(b";")[0], 16)
            while len(buffer) < size + 2:
                buffer += conn.recv(65536)
            parts.append(bytes(buffer[:size]))
            buffer[:] = buffer[size + 2 :]
            if size == 0:
                break
        body = b"chunked:" + b"".join(parts)
    return head + b"\r\n\r\n" + body


def _response(status: int, body: bytes = b"", headers: tuple[tuple[str, str], ...] = (), length: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status} {httpx.codes.get_reason_phrase(status) or 'X'}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if length:
        lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class RawServer:
    """Threaded TCP server; ``handler(conn, request)`` answers each request (or misbehaves)."""

    def __init__(self, handler: Handler, *, on_connect: Callable[[socket.socket], bool] | None = None) -> None:
        self.handler = handler
        self.on_connect = on_connect
        self.connections = 0
        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            if self.on_connect is not None and not self.on_connect(conn):
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        buffer = bytearray()
        try:
            while not self._stop.is_set():
                request = _read_request(conn, buffer)
                if request is None:
                    break
                self.requests.append(request)
                self.handler(conn, request)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def _path(request: bytes) -> str:
    return request.split(b" ", 2)[1].decode()


def _router(conn: socket.socket, request: bytes) -> None:
    path = _path(request)
    body = request.partition(b"\r\n\r\n")[2]
    if path == "/ok":
        conn.sendall(_response(200, b'{"ok": true}', (("content-type", "application/json"),)))
    elif path == "/echo":
        conn.sendall(_response(200, body))
    elif path == "/chunked":
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n"
            b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\n"
        )
    elif path == "/until-close":
        conn.sendall(_response(200, b"all of it", (("connection", "close"),), length=False))
        conn.shutdown(socket.SHUT_WR)
    elif path == "/close-after":
        conn.sendall(_response(200, b"bye", (("connection", "close"),)))
        conn.shutdown(socket.SHUT_WR)
    elif path == "/early-hints":
        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n" + _response(200, b"after hints"))
    elif path == "/gzip":
        conn.sendall(_response(200, gzip.compress(b"squeezed " * 100), (("content-encoding", "gzip"),)))
    elif path == "/big":
        conn.sendall(_response(200, b"x" * 3_000_000))
    elif path == "/empty":
        conn.sendall(_response(204))
    elif path.startswith("/status/"):
        conn.sendall(_response(int(path.rsplit("/", 1)[1]), b'{"error": "nope"}'))
    elif path == "/redirect":
        conn.sendall(_response(302, b"", (("location", "/ok"),)))
    elif path == "/slow":
        time.sleep(1.0)
        conn.sendall(_response(200, b"late"))
    elif path == "/hang-up":  # read the request, close without answering
        conn.shutdown(socket.SHUT_RDWR)
    elif path == "/reset":  # read the request, then RST
        _reset(conn)
    elif path == "/cut":  # announce 100 bytes, send 10, close
        conn.sendall(_response(200, b"0123456789", (("content-length", "100"),), length=False))
        conn.shutdown(socket.SHUT_RDWR)
    elif path == "/cut-chunked":
        conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\nshort")
        conn.shutdown(socket.SHUT_RDWR)
    elif path == "/garbage":
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    else:
        conn.sendall(_response(404, b"no route"))


TRANSPORTS: dict[str, Callable[[], httpx.AsyncBaseTransport]] = {
    "httpx": httpx.AsyncHTTPTransport,
    "asynchttp": AsyncHTTPTransport,
}


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    with RawServer(_router) as srv:
        yield srv


async def _outcome(factory: Callable[[], httpx.AsyncBaseTransport], call: Callable[[httpx.AsyncClient], Any]) -> Any:
    async with httpx.AsyncClient(transport=factory(), follow_redirects=True) as client:
        try:
            response = await call(client)
        except httpx.HTTPError as exc:
            return ("error", type(exc))
    headers = {k: v for k, v in response.headers.items() if k not in ("date", "server")}
    return (response.status_code, headers, response.content, response.url.path)


async def _same(call: Callable[[httpx.AsyncClient], Any]) -> Any:
    results = {name: await _outcome(factory, call) for name, factory in TRANSPORTS.items()}
    assert results["asynchttp"] == results["httpx"]
    return results["asynchttp"]


# ---------------------------------------------------------------- wire parity


@pytest.mark.parametrize(
    "path",
    ["/ok", "/chunked", "/until-close", "/close-after", "/early-hints", "/gzip", "/big", "/empty", "/redirect"],
)
async def test_bodies_and_framing(server: RawServer, path: str) -> None:
    result = await _same(lambda c: c.get(server.url + path))
    assert result[0] in (200, 204)


@pytest.mark.parametrize("status", [201, 301, 400, 401, 404, 429, 500, 503])
async def test_status_codes(server: RawServer, status: int) -> None:
    result = await _same(lambda c: c.get(server.url + f"/status/{status}", follow_redirects=False))
    assert result[0] == status


async def test_head_has_no_body(server: RawServer) -> None:
    result = await _same(lambda c: c.head(server.url + "/ok"))
    assert result[2] == b""


async def test_request_bodies(server: RawServer) -> None:
    payload = {"text": "héllo 🙌", "n": list(range(100))}
    result = await _same(lambda c: c.post(server.url + "/echo", json=payload))
    assert json.loads(result[2]) == payload

    async def stream() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            yield part

    result = await _same(lambda c: c.post(server.url + "/echo", content=stream()))
    assert result[2] == b"chunked:one,two,three"


@pytest.mark.parametrize("path", ["/hang-up", "/reset", "/cut", "/cut-chunked", "/garbage"], ids=lambda p: p.strip("/"))
async def test_broken_answers_raise_the_same_exception(server: RawServer, path: str) -> None:
    result = await _same(lambda c: c.get(server.url + path))
    assert result[0] == "error"


async def test_read_timeout(server: RawServer) -> None:
    result = await _same(lambda c: c.get(server.url + "/slow", timeout=httpx.Timeout(5, read=0.2)))
    assert result == ("error", httpx.ReadTimeout)


async def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await _same(lambda c: c.get(f"http://127.0.0.1:{port}/"))
    assert result == ("error", httpx.ConnectError)


async def test_reset_on_connect_before_the_request() -> None:
    def refuse(conn: socket.socket) -> bool:
        time.sleep(0.05)  # let the request arrive, then reset instead of reading it
        _reset(conn)
        return False

    with RawServer(_router, on_connect=refuse) as srv:
        outcomes = {name: await _outcome(f, lambda c: c.get(srv.url + "/ok")) for name, f in TRANSPORTS.items()}
    assert outcomes["asynchttp"] == outcomes["httpx"]
    assert outcomes["asynchttp"][0] == "error"


async def test_write_timeout_on_a_server_that_does_not_read() -> None:
    def stall(conn: socket.socket) -> bool:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        return False  # accepted, never read

    body = b"x" * 64_000_000
    with RawServer(_router, on_connect=stall) as srv:
        for name, factory in TRANSPORTS.items():
            outcome = await _outcome(
                factory, lambda c: c.post(srv.url + "/echo", content=body, timeout=httpx.Timeout(5, write=0.3))
            )
            assert outcome == ("error", httpx.WriteTimeout), name


async def test_unsupported_scheme() -> None:
    for factory in TRANSPORTS.values():
        async with httpx.AsyncClient(transport=factory()) as client:
            with pytest.raises(httpx.UnsupportedProtocol):
                await client.get("ftp://127.0.0.1/x")


# ---------------------------------------------------------------- connection reuse


async def test_keep_alive_reuses_one_connection() -> None:
    with RawServer(_router) as srv:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport()) as client:
            for _ in range(5):
                assert (await client.get(srv.url + "/ok")).status_code == 200
        assert srv.connections == 1


async def test_a_closed_connection_is_not_reused() -> None:
    with RawServer(_router) as srv:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport()) as client:
            assert (await client.get(srv.url + "/close-after")).content == b"bye"
            assert (await client.get(srv.url + "/ok")).status_code == 200
            assert (await client.get(srv.url + "/until-close")).content == b"all of it"
            assert (await client.get(srv.url + "/ok")).status_code == 200
        assert srv.connections == 3


async def test_an_idle_connection_the_server_dropped_is_replaced() -> None:
    def drop_after_one(conn: socket.socket, request: bytes) -> None:
        conn.sendall(_response(200, b"once"))
        time.sleep(0.05)
        conn.shutdown(socket.SHUT_RDWR)  # idle keep-alive connection closed by the server

    with RawServer(drop_after_one) as srv:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport()) as client:
            assert (await client.get(srv.url + "/a")).content == b"once"
            time.sleep(0.2)
            assert (await client.get(srv.url + "/b")).content == b"once"
        assert srv.connections == 2


async def test_concurrent_requests_are_bounded_and_pooled() -> None:
    def slowish(conn: socket.socket, request: bytes) -> None:
        time.sleep(0.02)
        conn.sendall(_response(200, b"ok"))

    with RawServer(slowish) as srv:
        transport = AsyncHTTPTransport(max_connections=4)
        async with httpx.AsyncClient(transport=transport) as client:
            responses = await asyncio.gather(*(client.get(srv.url + "/x") for _ in range(20)))
            assert all(r.status_code == 200 for r in responses)
        assert srv.connections == 4


async def test_pool_timeout() -> None:
    def stuck(conn: socket.socket, request: bytes) -> None:
        time.sleep(0.5)
        conn.sendall(_response(200, b"ok"))

    with RawServer(stuck) as srv:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport(max_connections=1)) as client:
            first = asyncio.ensure_future(client.get(srv.url + "/x"))
            await asyncio.sleep(0.05)
            with pytest.raises(httpx.PoolTimeout):
                await client.get(srv.url + "/y", timeout=httpx.Timeout(5, pool=0.1))
            assert (await first).status_code == 200


# ---------------------------------------------------------------- linkmsg on top


def _vendor() -> tuple[str, Any, dict[str, Any]]:
    emulator = pytest.importorskip("linkmsg_linkup_v2.emulator")
    from linkmsg.memory import demo_inbox

    inbox = demo_inbox(seed=2, conversations=3, messages_per_conversation=12)
    return "linkup-v2", emulator.LinkupV2Emulator(inbox, api_key="k-123456", account_id="acc_t"), inbox


@pytest.mark.parametrize("name", list(TRANSPORTS))
async def test_linkmsg_reads_retries_and_maps_errors_the_same(name: str) -> None:
    import linkmsg
    from linkmsg.testing.server import FakeVendorServer, Fault

    provider, emulator, inbox = _vendor()
    conversation = inbox.sorted_conversations()[0]
    expected = [m.id for m in inbox.messages[conversation.id]]
    settings = {"api_key": "k-123456", "account_id": "acc_t", "backoff": 0.01, "max_backoff": 0.02}
    with FakeVendorServer(emulator) as srv:
        async with linkmsg.AsyncClient(
            provider, base_url=srv.url, http_transport=TRANSPORTS[name](), **settings
        ) as client:
            srv.schedule(Fault(status=503, times=2))
            assert [m.id async for m in client.iter_messages(conversation, page_size=5)] == expected

            srv.schedule(Fault(drop="before_body", times=5))
            with pytest.raises(linkmsg.TransportError):
                await client.list_messages(conversation)
            srv.clear_faults()

            denied = {"success": False, "error": {"code": "INVALID_API_KEY", "message": "no"}}
            srv.schedule(Fault(status=401, json=denied))
            with pytest.raises(linkmsg.AuthenticationError) as auth:
                await client.list_messages(conversation)
            assert "k-123456" not in str(auth.value)

            srv.schedule(Fault(drop="after_body"))
            with pytest.raises(linkmsg.SendOutcomeUnknown):
                await client.send_message("hello", conversation=conversation)
