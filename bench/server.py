"""A fake vendor over real HTTP on 127.0.0.1, in its own process.

Any emulator (a callable ``httpx.Request -> httpx.Response`` that renders a
:class:`linkmsg.memory.Inbox` as a vendor's JSON) is served by a small asyncio
HTTP/1.1 server in a child process, so client and server never share a GIL:

* ``latency`` adds a fixed delay to every response without blocking other
  connections (``asyncio.sleep``), as a remote vendor would;
* ``cache=True`` keeps each rendered response by request (method, target, body,
  credentials), so after a warm-up pass the server costs the same for every
  client measured against it and is not what the benchmark measures;
* the server records the arrival time of every request and counts how many
  fell in any sliding window (``stats(count_window=...)``): the rate-limit check.

Control endpoints live under ``/__bench__/`` (``stats``, ``reset``).

``backend="reliability"`` serves through the reliability work's
``linkmsg.testing.server.FakeVendorServer`` instead (threaded, no added
latency or cache), still in a process of its own: the overhead and memory
benchmarks use it; the concurrency benchmark needs the asyncio server's
non-blocking latency and per-window request counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

CONTROL = "/__bench__/"
_SKIP_HEADERS = {"content-length", "transfer-encoding", "connection", "content-encoding"}


def _load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


class _State:
    def __init__(self, emulator: Any, latency: float, cache: bool) -> None:
        self.emulator = emulator
        self.latency = latency
        self.cache: dict[tuple[Any, ...], bytes] | None = {} if cache else None
        self.arrivals: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = 0
        self.render_seconds = 0.0

    def reset(self) -> None:
        self.arrivals.clear()
        self.max_in_flight = self.in_flight
        self.connections = 0
        self.render_seconds = 0.0

    def stats(self, query: dict[str, str]) -> dict[str, Any]:
        arrivals = sorted(self.arrivals)
        out: dict[str, Any] = {
            "requests": len(arrivals),
            "max_in_flight": self.max_in_flight,
            "connections": self.connections,
            "render_seconds": self.render_seconds,
        }
        if "window" in query:
            window = float(query["window"])
            best, j = 0, 0
            for i, t in enumerate(arrivals):
                while t - arrivals[j] >= window:
                    j += 1
                best = max(best, i - j + 1)
            out["max_in_window"] = best
        if "dump" in query:
            out["arrivals"] = [t - arrivals[0] for t in arrivals] if arrivals else []
        return out

    def render(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
        key = None
        if self.cache is not None:
            creds = tuple(v for k, v in headers if k.lower() in (b"authorization", b"x-api-key"))
            key = (method, target, body, creds)
            hit = self.cache.get(key)
            if hit is not None:
                return hit
        started = time.perf_counter()
        host = next((v for k, v in headers if k.lower() == b"host"), b"127.0.0.1").decode()
        request = httpx.Request(method, "http://" + host + target.decode(), headers=headers, content=body)
        try:
            response = self.emulator(request)
            content = response.read()
            status = response.status_code
            out_headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _SKIP_HEADERS]
        except Exception as exc:  # noqa: BLE001 - an emulator bug is a 500, not a dead server
            content = json.dumps({"error": f"emulator failed: {exc!r}"}).encode()
            status, out_headers = 500, [("content-type", "application/json")]
        head = [f"HTTP/1.1 {status} {httpx.codes.get_reason_phrase(status) or 'Status'}"]
        head += [f"{k}: {v}" for k, v in out_headers]
        head.append(f"content-length: {len(content)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content
        self.render_seconds += time.perf_counter() - started
        if key is not None:
            self.cache[key] = raw  # type: ignore[index]
        return raw


def _control(state: _State, target: str) -> bytes:
    path, _, query = target.partition("?")
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
    if path.endswith("/reset"):
        state.reset()
        body = b"{}"
    else:
        body = json.dumps(state.stats(params)).encode()
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%b" % (len(body), body)


async def _serve_connection(state: _State, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    state.connections += 1
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            arrived = loop.time()
            lines = head[:-4].split(b"\r\n")
            method, target, _version = lines[0].split(b" ", 2)
            headers = []
            length = 0
            close = False
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                v = v.strip()
                headers.append((k, v))
                lk = k.lower()
                if lk == b"content-length":
                    length = int(v)
                elif lk == b"connection" and v.lower() == b"close":
                    close = True
            body = await reader.readexactly(length) if length else b""
            if target.startswith(CONTROL.encode()):
                writer.write(_control(state, target.decode()))
                await writer.drain()
                continue
            state.arrivals.append(arrived)
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                raw = state.render(method.decode(), target, headers, body)
                if state.latency:
                    delay = arrived + state.latency - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                writer.write(raw)
                await writer.drain()
            finally:
                state.in_flight -= 1
            if close:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


def _reliability_child(emulator: Any, lifetime: float) -> None:
    """Serve with the reliability work's FakeVendorServer (threaded), hosted in this process."""
    from linkmsg.testing.server import FakeVendorServer

    holder: dict[str, Any] = {}

    def routed(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(CONTROL):
            server = holder["server"]
            if request.url.path.endswith("/reset"):
                server.reset_log()
                return httpx.Response(200, json={})
            records = [r for r in server.requests if not r.path.startswith(CONTROL)]
            return httpx.Response(
                200,
                json={"requests": len(records), "max_in_flight": server.max_in_flight, "render_seconds": 0.0},
            )
        return emulator(request)  # type: ignore[no-any-return]

    with FakeVendorServer(routed) as server:
        holder["server"] = server
        print(server.port, flush=True)
        time.sleep(lifetime)


def _child(factory: str, args: list[Any], latency: float, cache: bool, lifetime: float, backend: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    emulator = _load(factory)(*args)
    if backend == "reliability":
        _reliability_child(emulator, lifetime)
        return
    state = _State(emulator, latency, cache)

    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: _serve_connection(state, r, w), "127.0.0.1", 0, backlog=1024, limit=1 << 20
        )
        print(server.sockets[0].getsockname()[1], flush=True)
        async with server:
            await asyncio.sleep(lifetime)  # a hard bound: a forgotten server dies on its own

    asyncio.run(main())


class FakeServer:
    """``with FakeServer("bench.targets:emulator", (name, ...)) as srv: srv.url``

    The server is a separate interpreter (``python -m bench.server``), so it
    never shares the GIL with the client being measured.
    """

    def __init__(
        self,
        factory: str,
        args: tuple[Any, ...] = (),
        *,
        latency: float = 0.0,
        cache: bool = True,
        lifetime: float = 600.0,
        backend: str = "asyncio",
    ) -> None:
        if backend == "reliability" and (latency or cache):
            raise ValueError("the reliability backend serves without added latency or cache")
        self.spec = {
            "factory": factory,
            "args": list(args),
            "latency": latency,
            "cache": cache,
            "lifetime": lifetime,
            "backend": backend,
        }
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._control: httpx.Client | None = None

    def __enter__(self) -> FakeServer:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.server", json.dumps(self.spec)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], 120)
        line = self._process.stdout.readline() if ready else ""
        if not line.strip().isdigit():
            self.__exit__()
            raise RuntimeError(f"fake server {self.spec['args']!r} did not start")
        self.url = f"http://127.0.0.1:{int(line)}"
        self._control = httpx.Client(base_url=self.url, timeout=60)
        return self

    def stats(self, window: float | None = None, dump: bool = False) -> dict[str, Any]:
        assert self._control is not None
        params: dict[str, Any] = {"window": window} if window is not None else {}
        if dump:
            params["dump"] = 1
        return self._control.get(CONTROL + "stats", params=params).json()  # type: ignore[no-any-return]

    def reset(self) -> None:
        assert self._control is not None
        self._control.post(CONTROL + "reset")

    def __exit__(self, *exc: object) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None


@contextlib.contextmanager
def serve(factory: str, *args: Any, **kwargs: Any) -> Iterator[FakeServer]:
    with FakeServer(factory, args, **kwargs) as server:
        yield server


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    _child(spec["factory"], spec["args"], spec["latency"], spec["cache"], spec["lifetime"], spec["backend"])
