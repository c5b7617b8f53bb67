"""``python -m bench.explain``: where the overhead and concurrency time goes.

Not a benchmark with a target: the measurements behind "Where the remaining
time goes" in ``docs/benchmarks.md``, so they can be repeated.

* **overhead, in-process**: the 5,000-message history of the overhead
  benchmark is fetched once over HTTP, then replayed through
  ``httpx.MockTransport`` (no network, no server): linkmsg's loop against
  decoding the same bodies with orjson alone, per message; and what two
  pieces every message needs cost on their own (``Message(...)`` and its
  ``datetime``).
* **concurrency, timeline**: one linkmsg run and one raw-socket floor run of
  the concurrency benchmark, with the server's arrival times grouped into
  rounds (``count@first-last ms``: a gap of over 10 ms starts a new round).

Options: ``--providers`` as for ``python -m bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

import linkmsg
from bench import concurrency
from bench.data import make_inbox
from bench.server import FakeServer
from bench.targets import Target, prepare, selected
from linkmsg.asynchttp import AsyncHTTPTransport
from linkmsg.model import Message, Participant

MESSAGES = 5_000


def _median_ms(fn: Callable[[], object], rounds: int = 15) -> float:
    times = []
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def overhead(target: Target) -> None:
    prepare(target.name)
    conv_id = make_inbox(1, 0).conversations[0].id
    recorded: list[tuple[int, list[tuple[bytes, bytes]], bytes]] = []

    class Recorder(httpx.BaseTransport):
        inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = self.inner.handle_request(request)
            recorded.append((response.status_code, list(response.headers.raw), response.read()))
            return response

    with FakeServer("bench.targets:emulator", (target.name, 1, MESSAGES), cache=False, backend="reliability") as server:
        settings = target.client_settings(server.url)
        with linkmsg.Client(target.name, http_transport=Recorder(), **settings) as client:
            count = sum(1 for _ in client.iter_messages(conv_id))
    assert count == MESSAGES, count
    position = 0

    def replay(_: httpx.Request) -> httpx.Response:
        nonlocal position
        status, headers, body = recorded[position]
        position += 1
        return httpx.Response(status, headers=headers, content=body)

    client = linkmsg.Client(target.name, http_transport=httpx.MockTransport(replay), **settings)

    def linkmsg_loop() -> None:
        nonlocal position
        position = 0
        for _ in client.iter_messages(conv_id):
            pass

    full = _median_ms(linkmsg_loop)
    decode = _median_ms(lambda: [orjson.loads(body) for _, _, body in recorded])
    client.close()
    sender = Participant(name="x")
    sent = datetime.now(UTC)
    n = 50_000
    message_us = timeit.timeit(lambda: Message("a", "b", "c", sent, sender), number=n) / n * 1e6
    datetime_us = timeit.timeit(lambda: datetime.fromtimestamp(1_700_000_000.123, UTC), number=n) / n * 1e6
    per = 1000 / MESSAGES
    print(
        f"overhead {target.name}: {len(recorded)} responses in-process: linkmsg {full:.1f} ms "
        f"({full * per:.2f} µs/msg), orjson alone {decode:.1f} ms ({decode * per:.2f} µs/msg); "
        f"Message(...) {message_us:.2f} µs, datetime.fromtimestamp {datetime_us:.2f} µs"
    )


def _rounds(arrivals: list[float]) -> str:
    groups: list[list[float]] = []
    for t in arrivals:
        if groups and t - groups[-1][-1] <= 0.010:
            groups[-1].append(t)
        else:
            groups.append([t])
    return " | ".join(f"{len(g)}@{g[0] * 1000:.0f}-{g[-1] * 1000:.0f}" for g in groups)


def timeline(target: Target) -> None:
    prepare(target.name)
    args = (target.name, concurrency.CONVERSATIONS, concurrency.MESSAGES)
    with FakeServer("bench.targets:emulator", args, latency=concurrency.LATENCY) as server:
        concurrency._fresh_limiters()
        warm: dict[str, Any] = asyncio.run(concurrency._sync(target, server.url, "1000/1s", AsyncHTTPTransport()))
        for name in ("linkmsg", "floor"):
            concurrency._fresh_limiters()
            server.reset()
            if name == "linkmsg":
                run = asyncio.run(concurrency._sync(target, server.url, "1000/1s", AsyncHTTPTransport()))
                elapsed = run["elapsed"]
            else:
                elapsed = asyncio.run(concurrency._floor(server.url, warm["recorded"], warm["listing_requests"]))
            arrivals = server.stats(dump=True)["arrivals"]
            print(f"concurrency {target.name} {name}: {elapsed * 1000:.0f} ms; arrivals {_rounds(arrivals)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__.splitlines()[0])
    parser.add_argument("--providers", default="", help="comma-separated provider names (default: installed)")
    args = parser.parse_args(argv)
    try:
        targets, notes = selected([p.strip() for p in args.providers.split(",") if p.strip()] or None)
    except ValueError as exc:
        parser.error(str(exc))
    for text in notes:
        print(text, file=sys.stderr)
    for target in targets:
        overhead(target)
    for target in targets:
        timeline(target)


if __name__ == "__main__":
    main()
