"""1. Overhead of ``iter_messages`` versus a raw httpx loop.

One conversation of 5,000 messages served by the vendor's emulator over HTTP
on 127.0.0.1 by the reliability work's fake vendor server
(``linkmsg.testing.server.FakeVendorServer``), hosted in its own process so it
never shares the client's GIL. ``Client.iter_messages`` reads it at the
largest page size the provider allows. The baseline is an ``httpx.Client``
that replays the very requests linkmsg made (recorded in the warm-up pass:
same URLs, headers and bodies) and decodes each body with ``response.json()``
without building any model. Ratio = linkmsg time / raw time, median of the
per-round ratios of alternating rounds. An orjson raw loop is measured too,
for information.

A round here is one pass over 5,000 messages, 40-110 ms on a small VM, and
single rounds' ratios scatter by about ±0.2 with the machine's jitter, so
this figure takes ``ROUNDS_PER_RUN`` times the rounds asked for (21 by
default): enough for the median to move by a few hundredths between runs,
not a tenth. The interquartile range of the per-round ratios is reported.
"""

from __future__ import annotations

import statistics
from typing import Any

import httpx
import orjson

import linkmsg
from bench.common import Result, alternate, median, ms, paired_ratio
from bench.data import make_inbox
from bench.server import FakeServer
from bench.targets import Target, prepare

MESSAGES = 5_000
TARGET = 1.3
ROUNDS_PER_RUN = 3
BACKEND = "reliability"  # linkmsg.testing.server.FakeVendorServer, hosted in its own process


class _Recorder(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[tuple[str, str, list[tuple[bytes, bytes]], bytes]] = []
        self.recording = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.recording:
            self.requests.append((request.method, str(request.url), list(request.headers.raw), request.read()))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def run(target: Target, runs: int) -> Result:
    prepare(target.name)
    conv_id = make_inbox(1, 0).conversations[0].id  # conversation 0's id does not depend on its size
    with FakeServer("bench.targets:emulator", (target.name, 1, MESSAGES), cache=False, backend=BACKEND) as server:
        recorder = _Recorder()
        client = linkmsg.Client(target.name, http_transport=recorder, **target.client_settings(server.url))
        page_size = client.provider.max_page_size
        count = sum(1 for _ in client.iter_messages(conv_id))
        recorder.recording = False
        if count != MESSAGES:
            raise RuntimeError(f"{target.name}: iter_messages returned {count} messages, expected {MESSAGES}")
        replay = recorder.requests
        raw = httpx.Client()

        def linkmsg_loop() -> None:
            n = 0
            for _ in client.iter_messages(conv_id):
                n += 1
            assert n == MESSAGES

        def raw_loop(decode: Any) -> None:
            for method, url, headers, body in replay:
                response = raw.request(method, url, headers=headers, content=body)
                decode(response)

        def raw_json() -> None:
            raw_loop(lambda r: r.json())

        def raw_orjson() -> None:
            raw_loop(lambda r: orjson.loads(r.content))

        raw_json()  # warm the raw client's connection too
        rounds = runs * ROUNDS_PER_RUN
        times = alternate({"linkmsg": linkmsg_loop, "raw": raw_json, "raw_orjson": raw_orjson}, rounds)
        client.close()
        raw.close()
        stats = server.stats()

    ratio = paired_ratio(times["linkmsg"], times["raw"])
    per_round = [a / b for a, b in zip(times["linkmsg"], times["raw"], strict=True)]
    low, _, high = statistics.quantiles(per_round, n=4) if len(per_round) > 1 else (ratio, ratio, ratio)
    per_msg = median(times["linkmsg"]) / MESSAGES * 1e6
    return Result(
        "overhead",
        target.name,
        figure=f"{ms(median(times['linkmsg']))} ({per_msg:.1f} µs/msg)",
        baseline=f"{ms(median(times['raw']))} raw httpx+json",
        ratio=ratio,
        target=TARGET,
        note=f"{len(replay)} requests, page size {page_size}; {rounds} rounds, "
        f"per-round ratios {low:.2f}-{high:.2f} (quartiles); "
        f"vs raw httpx+orjson: {paired_ratio(times['linkmsg'], times['raw_orjson']):.2f}x",
        details={
            "messages": MESSAGES,
            "requests": len(replay),
            "rounds": rounds,
            "per_round_quartiles": [low, high],
            "page_size": page_size,
            "times": times,
            "ratio_vs_orjson": paired_ratio(times["linkmsg"], times["raw_orjson"]),
            "server_render_seconds": stats["render_seconds"],
        },
    )
