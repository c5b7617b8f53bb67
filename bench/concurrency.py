"""3. Concurrency: a full sync of 200 conversations with ``AsyncClient`` against a 40 ms vendor.

The fake vendor (``bench.server``, its own process, responses cached after the
warm-up pass) answers every request 40 ms after it arrives, without blocking
other connections, and logs arrival times. One run lists every conversation
(``iter_conversations``) and then reads each one's full history
(``iter_messages``) concurrently with ``asyncio.gather``, through
``linkmsg.asynchttp.AsyncHTTPTransport`` with ``max_concurrency=50``.

The baseline is the lower bound that latency, concurrency and the rate limit
allow, computed from the requests the run needs: I sequential listing pages,
then M history requests (chains of P pages per conversation) through C slots:
``I*L + max(P, ceil(M/C))*L``; and for a limit of R requests per T seconds,
``floor((N-1)/R)*T + L``; the bound is the larger. Two scenarios:

* ``latency``: rate limit 1000/1s (not reached): the transport and the client's
  own per-request costs are what is measured;
* ``rate-limited``: 150/1s, so the limiter must hold 52 requests back a second.

Both must finish within 1.25x their bound, and the server must never see more
requests in any sliding window of the limit's period than the limit allows
(the client's limiter counts a request until its attempt ends, so a slow
connection cannot bunch arrivals at the server). For reference, alternating
with the latency runs: the same requests as hand-written HTTP/1.1 on asyncio
sockets (the floor this machine allows) and as ``httpx.Request`` objects
through ``AsyncHTTPTransport`` with the JSON decoded but no linkmsg client
(what the HTTP layer costs); httpx's default pool is measured once per
provider.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import httpx
import orjson

import linkmsg
from bench.common import Result, median
from bench.server import FakeServer
from bench.targets import Target, prepare
from linkmsg.asynchttp import AsyncHTTPTransport

CONVERSATIONS = 200
MESSAGES = 30
LATENCY = 0.040
CONCURRENCY = 50
TARGET = 1.25
SCENARIOS = {"latency": (1000, 1.0), "rate-limited": (150, 1.0)}


class _Counter(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.count = 0
        self.requests: list[bytes] = []  # each request as raw HTTP/1.1, for the floor
        self.replay: list[tuple[str, httpx.URL, list[tuple[bytes, bytes]], bytes]] = []  # for transport-only

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        body = await request.aread()
        head = f"{request.method} {request.url.raw_path.decode()} HTTP/1.1\r\n".encode()
        head += b"".join(k + b": " + v + b"\r\n" for k, v in request.headers.raw)
        self.requests.append(head + b"\r\n" + body)
        self.replay.append((request.method, request.url, list(request.headers.raw), body))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _fresh_limiters() -> None:
    """Each run starts with an empty rate-limit log (limiters are shared per account)."""
    from linkmsg.transport import RateLimiter

    shared = getattr(RateLimiter, "_shared", None)
    if isinstance(shared, dict):
        shared.clear()
    else:  # pragma: no cover - the registry moved: wait the window out instead
        time.sleep(1.0)


async def _sync(target: Target, url: str, rate: str, transport: httpx.AsyncBaseTransport | None) -> dict[str, Any]:
    counter = _Counter(transport or httpx.AsyncHTTPTransport())
    settings = {**target.client_settings(url), "max_concurrency": CONCURRENCY, "rate_limit": rate}
    started = time.perf_counter()
    async with linkmsg.AsyncClient(target.name, http_transport=counter, **settings) as client:
        conversations = [c async for c in client.iter_conversations()]
        listing = counter.count

        async def history(conversation: Any) -> int:
            return sum([1 async for _ in client.iter_messages(conversation)])

        counts = await asyncio.gather(*(history(c) for c in conversations))
    elapsed = time.perf_counter() - started
    return {
        "recorded": counter.requests,
        "replay": counter.replay,
        "elapsed": elapsed,
        "conversations": len(conversations),
        "messages": sum(counts),
        "listing_requests": listing,
        "requests": counter.count,
    }


async def _floor(url: str, recorded: list[bytes], listing: int) -> float:
    """The same requests from hand-written HTTP/1.1 on asyncio sockets: what this machine allows now.

    Listing pages one after the other, then every history request through
    ``CONCURRENCY`` keep-alive connections; bodies are read, not decoded.
    """
    host, port = url.removeprefix("http://").split(":")
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(raw: bytes) -> None:
        async with slots:
            reader, writer = idle.pop() if idle else await asyncio.open_connection(host, int(port))
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:"))
            await reader.readexactly(length)
            idle.append((reader, writer))

    started = time.perf_counter()
    for raw in recorded[:listing]:
        await one(raw)
    await asyncio.gather(*(one(raw) for raw in recorded[listing:]))
    elapsed = time.perf_counter() - started
    for _, writer in idle:
        writer.close()
    return elapsed


async def _transport_only(replay: list[tuple[str, httpx.URL, list[tuple[bytes, bytes]], bytes]], listing: int) -> float:
    """The same requests as ``httpx.Request`` objects through a fresh ``AsyncHTTPTransport``, JSON decoded.

    What the HTTP layer linkmsg drives costs without linkmsg's client on top (no
    retry loop, rate limiter, paging or mapping): the step between the
    raw-socket floor and linkmsg.
    """
    transport = AsyncHTTPTransport()
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(method: str, url: httpx.URL, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        async with slots:
            response = await transport.handle_async_request(httpx.Request(method, url, headers=headers, content=body))
            await response.aread()
        orjson.loads(response.content)

    started = time.perf_counter()
    for request in replay[:listing]:
        await one(*request)
    await asyncio.gather(*(one(*request) for request in replay[listing:]))
    elapsed = time.perf_counter() - started
    await transport.aclose()
    return elapsed


def _bound(run: dict[str, Any], count: int, period: float) -> float:
    listing, total, convs = run["listing_requests"], run["requests"], run["conversations"]
    history = total - listing
    chain = math.ceil(history / convs) if convs else 0
    latency_bound = listing * LATENCY + max(chain, math.ceil(history / CONCURRENCY)) * LATENCY
    rate_bound = ((total - 1) // count) * period + LATENCY
    return max(latency_bound, rate_bound)


def run(target: Target, runs: int, *, compare_default: bool = True) -> list[Result]:
    prepare(target.name)
    results = []
    with FakeServer("bench.targets:emulator", (target.name, CONVERSATIONS, MESSAGES), latency=LATENCY) as server:
        # Warm-up: the server renders and caches every response once.
        _fresh_limiters()
        warm = asyncio.run(_sync(target, server.url, "1000/1s", AsyncHTTPTransport()))
        if warm["conversations"] != CONVERSATIONS or warm["messages"] != CONVERSATIONS * MESSAGES:
            raise RuntimeError(f"{target.name}: the sync read {warm}, expected {CONVERSATIONS} x {MESSAGES}")
        recorded, replay, listing = warm.pop("recorded"), warm.pop("replay"), warm["listing_requests"]
        for scenario, (count, period) in SCENARIOS.items():
            n = runs if scenario == "latency" else max(3, runs // 2)
            timings, floors, bare, worst_window, in_flight = [], [], [], 0, 0
            last: dict[str, Any] = {}
            for _ in range(n):
                _fresh_limiters()
                server.reset()
                last = asyncio.run(_sync(target, server.url, f"{count}/{int(period)}s", AsyncHTTPTransport()))
                last.pop("recorded")
                last.pop("replay")
                stats = server.stats(window=period)
                timings.append(last["elapsed"])
                worst_window = max(worst_window, stats["max_in_window"])
                in_flight = max(in_flight, stats["max_in_flight"])
                if scenario == "latency":  # alternate with the floor, so both see the same machine
                    floors.append(asyncio.run(_floor(server.url, recorded, listing)))
                    bare.append(asyncio.run(_transport_only(replay, listing)))
            bound = _bound(last, count, period)
            note = f"{last['requests']} requests, C={CONCURRENCY}, limit {count}/{period:g}s"
            if floors:
                note += f"; raw-socket floor now: {median(floors) / bound:.2f}x bound"
                note += f"; transport + JSON without the client: {median(bare) / bound:.2f}x"
            details: dict[str, Any] = {
                "times": timings,
                "bound": bound,
                "floor_times": floors,
                "transport_only_times": bare,
                "run": last,
                "max_in_flight": in_flight,
                "max_in_window": worst_window,
            }
            if scenario == "latency" and compare_default:
                default_times = []
                for _ in range(max(1, runs // 2)):
                    _fresh_limiters()
                    default_times.append(asyncio.run(_sync(target, server.url, "1000/1s", None))["elapsed"])
                details["httpx_default_pool"] = default_times
                note += f"; httpx default pool: {median(default_times) / bound:.2f}x"
            results.append(
                Result(
                    f"concurrency ({scenario})",
                    target.name,
                    figure=f"{median(timings) * 1000:.0f} ms",
                    baseline=f"{bound * 1000:.0f} ms bound",
                    ratio=median(timings) / bound,
                    target=TARGET,
                    note=note + f"; server saw at most {worst_window} requests in any {period:g}s window, "
                    f"{in_flight} in flight",
                    checks={
                        f"<= {count} requests per {period:g}s at the server": worst_window <= count,
                        f"<= {CONCURRENCY} in flight": in_flight <= CONCURRENCY,
                    },
                    details=details,
                )
            )
    return results
