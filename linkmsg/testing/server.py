"""A real HTTP server on 127.0.0.1 that serves a vendor emulator, with faults.

:class:`FakeVendorServer` wraps any emulator (a callable taking an
``httpx.Request`` and returning an ``httpx.Response``, such as the providers'
``<Vendor>Emulator``) in a ``ThreadingHTTPServer`` on an OS-assigned port, so
a client talks to it through the real httpx network path: sockets, timeouts,
keep-alive, cut connections. Each request is turned into an ``httpx.Request``,
checked against the fault schedule, answered by the emulator, and written back::

    with FakeVendorServer(emulator) as server:
        server.schedule(Fault(status=503, times=2), Fault(path="/send", drop="after_body"))
        client = linkmsg.Client("acme", base_url=server.url, api_key="k")
        ...
        assert server.count(path="/send") == 1

A :class:`Fault` picks requests (``method``, ``path`` regex, ``when``
predicate; it lets ``after`` matching requests through, then applies to the
next ``times`` of them) and says what goes wrong: a replaced answer
(``status``, ``headers``, ``body``/``json``), a ``delay``, a connection
dropped before or after the body was read (``drop``), a body cut short
(``truncate``: valid HTTP, broken JSON; ``cut``: the connection dies mid-body),
the page before served again and again, whatever the cursor (``repeat_cursor``), items of the previous
page repeated (``repeat_items``), or fields changed (``drift``).

Every wait is bounded: sockets time out after ``socket_timeout`` seconds,
delays are capped at :data:`MAX_DELAY` and end early when the server stops,
and :meth:`FakeVendorServer.stop` closes every open connection and joins its
threads with a timeout. It needs no pytest: a unittest suite or a plain
script can use it (the package's conformance kit loads only when used).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import attrs
import httpx

__all__ = ["MAX_DELAY", "Emulator", "FakeVendorServer", "Fault", "RequestRecord", "find_items"]

Emulator = Callable[[httpx.Request], httpx.Response]
#: The longest delay a fault may ask for, in seconds.
MAX_DELAY = 30.0
_MAX_BODY = 16 * 1024 * 1024
_MAX_TIMES = 10_000
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"})
_UNSET: Any = object()


def _check_times(instance: Any, attribute: Any, value: int) -> None:
    if not 1 <= value <= _MAX_TIMES:
        raise ValueError(f"Fault.times must be between 1 and {_MAX_TIMES}, got {value!r}")


def _check_delay(instance: Any, attribute: Any, value: float) -> None:
    if not 0 <= value <= MAX_DELAY:
        raise ValueError(f"Fault.delay must be between 0 and {MAX_DELAY}s, got {value!r}")


@attrs.frozen(kw_only=True)
class Fault:
    """One scheduled failure; see the module docstring.

    ``drop="before_body"`` closes the connection without asking the emulator
    (the vendor never saw it; the body is not even read unless ``when`` needs it);
    ``drop="after_body"`` (or ``True``) reads it, lets the emulator process it
    (a send lands) and closes without answering. With ``status`` the answer is
    replaced and the emulator is not asked unless ``call_emulator`` (the vendor
    did the work, then failed). Without ``status`` the emulator answers and
    ``headers`` are added, ``drift`` rewrites its JSON, ``body``/``json``
    replace its body.
    """

    method: str | None = None
    path: str | None = None
    when: Callable[[httpx.Request], bool] | None = None
    after: int = 0
    times: int = attrs.field(default=1, validator=_check_times)

    status: int | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes | str | None = None
    json: Any = _UNSET
    call_emulator: bool = False
    delay: float = attrs.field(default=0.0, validator=_check_delay)
    drop: Literal["before_body", "after_body"] | bool | None = None
    truncate: bool | int = False
    cut: bool = False
    repeat_cursor: bool = False
    repeat_items: int = 0
    drift: Callable[[Any], Any] | None = None

    def __attrs_post_init__(self) -> None:
        if self.after < 0 or self.repeat_items < 0:
            raise ValueError("after and repeat_items must be >= 0")

    @property
    def drop_mode(self) -> str | None:
        if self.drop is True:
            return "after_body"
        return self.drop or None

    def matches(self, method: str, path: str, request: httpx.Request | None) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and not re.search(self.path, path):
            return False
        if self.when is not None:
            return request is not None and bool(self.when(request))
        return True


@attrs.define
class _Slot:
    fault: Fault
    seen: int = 0
    applied: int = 0
    frozen: bytes | None = None  # repeat_cursor: the page this fault keeps serving

    @property
    def spent(self) -> bool:
        return self.applied >= self.fault.times


@attrs.define
class RequestRecord:
    """One request the server received, and what it did with it."""

    number: int
    method: str
    path: str
    query: str
    headers: dict[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    fault: Fault | None = None
    status: int | None = None  # None: no answer was written (dropped)
    processed: bool = False  # the emulator saw it
    started: float = 0.0
    finished: float = 0.0

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


def find_items(data: Any) -> list[Any] | None:
    """The page's item list in a vendor JSON document: its longest list of objects."""
    best: list[Any] | None = None
    stack: list[Any] = [data]
    budget = 10_000
    while stack and budget:
        budget -= 1
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            if node and all(isinstance(item, dict) for item in node) and (best is None or len(node) > len(best)):
                best = node
            stack.extend(reversed(node))
    return best


@attrs.define
class _Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    fake: FakeVendorServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.fake.socket_timeout)
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the server keeps its own request log."""

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET


class FakeVendorServer:
    """A fault-injecting HTTP server in a background thread; see the module docstring.

    ``endpoint_key`` groups requests for ``repeat_cursor``/``repeat_items``
    ("the previous page of this listing"); the default is method and path, an
    action-style API can add the action name from the body.
    """

    def __init__(
        self,
        emulator: Emulator,
        *,
        faults: Iterable[Fault] = (),
        endpoint_key: Callable[[httpx.Request], str] | None = None,
        socket_timeout: float = 5.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.emulator = emulator
        self.endpoint_key = endpoint_key or (lambda r: f"{r.method} {r.url.path}")
        self.socket_timeout = socket_timeout
        self.host = host
        self.requests: list[RequestRecord] = []
        self.errors: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._slots = [_Slot(f) for f in faults]
        self._previous: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> FakeVendorServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self.host, 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-vendor", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> FakeVendorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on (after :meth:`stop`, the port it listened on)."""
        if self._port is None:
            raise RuntimeError("the server was never started; call start()")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- schedule and log ----------------------------------------------------------

    def schedule(self, *faults: Fault) -> None:
        """Add faults; each request takes the first matching one with budget left."""
        with self._lock:
            self._slots.extend(_Slot(f) for f in faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._slots.clear()

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return [slot.fault for slot in self._slots if not slot.spent]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = self.in_flight

    def records(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        when: Callable[[RequestRecord], bool] | None = None,
    ) -> list[RequestRecord]:
        with self._lock:
            found = list(self.requests)
        return [
            r
            for r in found
            if (method is None or r.method == method.upper())
            and (path is None or re.search(path, r.path))
            and (when is None or when(r))
        ]

    def count(self, **kwargs: Any) -> int:
        return len(self.records(**kwargs))

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # -- one request -------------------------------------------------------------------

    def _pick(self, method: str, path: str, request: httpx.Request | None, *, body_read: bool) -> _Slot | None:
        with self._lock:
            for slot in self._slots:
                if slot.spent:
                    continue
                needs_body = slot.fault.when is not None
                if needs_body != body_read:
                    continue
                if not slot.fault.matches(method, path, request):
                    continue
                slot.seen += 1
                if slot.seen <= slot.fault.after:
                    continue
                slot.applied += 1
                return slot
        return None

    def _handle(self, handler: _Handler) -> None:
        with self._lock:
            number = len(self.requests) + 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        method = handler.command
        target = handler.path
        path, _, query = target.partition("?")
        headers = {k: v for k, v in handler.headers.items()}
        record = RequestRecord(number, method, path, query, headers, b"", started=time.monotonic())
        with self._lock:
            self.requests.append(record)
        try:
            self._serve(handler, record)
        except (OSError, ValueError) as exc:  # the client went away, or sent something unreadable
            handler.close_connection = True
            with self._lock:
                self.errors.append(f"request {number}: {type(exc).__name__}: {exc}")
        finally:
            record.finished = time.monotonic()
            with self._lock:
                self.in_flight -= 1

    def _serve(self, handler: _Handler, record: RequestRecord) -> None:
        slot = self._pick(record.method, record.path, None, body_read=False)
        if slot is not None and slot.fault.drop_mode == "before_body":
            record.fault = slot.fault
            self._drop(handler)
            return
        record.body = self._read_body(handler)
        url = f"{self.url}{record.path}" + (f"?{record.query}" if record.query else "")
        request = httpx.Request(record.method, url, headers=record.headers, content=record.body)
        if slot is None:
            slot = self._pick(record.method, record.path, request, body_read=True)
        fault = record.fault = slot.fault if slot is not None else None
        if fault is not None and fault.drop_mode == "before_body":
            self._drop(handler)
            return
        answer = self._answer(request, record, slot)
        if fault is not None and fault.delay:
            self._stopping.wait(fault.delay)
        if answer is None:
            self._drop(handler)
            return
        record.status = answer.status  # before the write: a client may read the record as soon as it has the answer
        self._write(handler, answer, fault)

    def _read_body(self, handler: _Handler) -> bytes:
        length = handler.headers.get("content-length")
        if length is not None:
            size = int(length)
            if not 0 <= size <= _MAX_BODY:
                raise ValueError(f"request body of {size} bytes")
            return handler.rfile.read(size)
        if "chunked" in handler.headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            for _ in range(100_000):
                size = int(handler.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    handler.rfile.readline(1024)
                    break
                total += size
                if total > _MAX_BODY:
                    raise ValueError("chunked request body too large")
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline(1024)
            return b"".join(chunks)
        return b""

    def _emulate(self, request: httpx.Request, record: RequestRecord) -> httpx.Response:
        record.processed = True
        try:
            response = self.emulator(request)
            response.read()
            return response
        except Exception as exc:  # noqa: BLE001 - an emulator bug becomes a visible 500 plus a logged error
            with self._lock:
                self.errors.append(f"request {record.number}: emulator raised {type(exc).__name__}: {exc}")
            return httpx.Response(500, json={"error": "emulator failure"})

    def _answer(self, request: httpx.Request, record: RequestRecord, slot: _Slot | None) -> _Answer | None:
        fault = slot.fault if slot is not None else None
        if fault is not None and fault.drop_mode == "after_body":
            self._emulate(request, record)
            return None
        if fault is not None and fault.status is not None:
            if fault.call_emulator:
                self._emulate(request, record)
            body, content_type = self._fault_body(fault)
            headers = [("content-type", content_type)] if content_type else []
            return _Answer(fault.status, headers + list(fault.headers.items()), body)
        response = self._emulate(request, record)
        key = self.endpoint_key(request)
        body = response.content
        with self._lock:
            previous = self._previous.get(key)
            self._previous[key] = body
            if slot is not None and fault is not None and fault.repeat_cursor:
                # The page served just before the fault struck, served again and again.
                if slot.frozen is None:
                    slot.frozen = previous
                previous = slot.frozen
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _HOP_HEADERS]
        if fault is not None:
            body = self._rewrite(body, previous, fault)
            if fault.headers:
                replaced = {k.lower() for k in fault.headers}
                headers = [(k, v) for k, v in headers if k.lower() not in replaced] + list(fault.headers.items())
        return _Answer(response.status_code, headers, body)

    @staticmethod
    def _fault_body(fault: Fault) -> tuple[bytes, str | None]:
        if fault.json is not _UNSET:
            return json.dumps(fault.json).encode(), "application/json"
        if isinstance(fault.body, str):
            return fault.body.encode(), None
        return fault.body or b"", None

    @staticmethod
    def _rewrite(body: bytes, previous: bytes | None, fault: Fault) -> bytes:
        if fault.repeat_cursor and previous is not None:
            body = previous
        if fault.repeat_items or fault.drift is not None:
            try:
                data = json.loads(body)
            except ValueError:
                data = _UNSET
            if data is not _UNSET:
                if fault.repeat_items and previous is not None:
                    try:
                        old = find_items(json.loads(previous))
                    except ValueError:
                        old = None
                    items = find_items(data)
                    if items is not None and old:
                        items[:0] = copy.deepcopy(old[-fault.repeat_items :])
                if fault.drift is not None:
                    data = fault.drift(data)
                body = json.dumps(data).encode()
        if fault.json is not _UNSET:
            body = json.dumps(fault.json).encode()
        elif fault.body is not None:
            body = fault.body.encode() if isinstance(fault.body, str) else fault.body
        return body

    def _write(self, handler: _Handler, answer: _Answer, fault: Fault | None) -> None:
        body = answer.body
        length = len(body)
        if fault is not None and fault.truncate:
            keep = fault.truncate if fault.truncate is not True else max(1, len(body) // 2)
            body = body[: int(keep)]
            length = len(body)
        cut = fault is not None and fault.cut
        if cut:
            body = body[: max(1, len(body) // 2)]  # the full length is announced, half is sent
        handler.send_response(answer.status)
        for key, value in answer.headers:
            handler.send_header(key, value)
        handler.send_header("content-length", str(length))
        if cut:
            handler.send_header("connection", "close")
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)
        handler.wfile.flush()
        if cut:
            self._drop(handler)

    @staticmethod
    def _drop(handler: _Handler) -> None:
        """Close the connection now, without (the rest of) an answer."""
        handler.close_connection = True
        try:
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
