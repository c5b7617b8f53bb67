"""2. Normalization throughput: vendor JSON bytes -> model objects, linkmsg versus pydantic v2.

The vendor's emulator renders one conversation of 5,000 messages as the
history pages ``iter_messages`` asks for (largest page size). Both sides start
from the same response bytes:

* linkmsg: the transport's decoder (orjson when installed, as in ``[fast]``),
  then the provider's own sans-IO ``list_messages`` operation (cattrs
  structuring into payload classes, mapping into :mod:`linkmsg.model`);
* pydantic: ``bench.pyd`` (vendor-shaped models, ``model_validate_json``,
  mapping into pydantic output models), as a user might write it.

Both produce the same values (checked on every run). The figure is messages
per second; ratio = linkmsg throughput / pydantic throughput (>= 1.0 passes).
Everything runs in this process: no HTTP.
"""

from __future__ import annotations

from typing import Any

import httpx

import linkmsg
from bench import pyd
from bench.common import Result, alternate, median, paired_ratio
from bench.data import make_inbox
from bench.targets import Target, emulator, prepare
from linkmsg.identity import parse_conversation_id
from linkmsg.provider import ConversationTarget, Response

MESSAGES = 5_000
TARGET = 1.0


def _loads() -> Any:
    from linkmsg import transport

    return transport._loads


def run(target: Target, runs: int) -> Result:
    prepare(target.name)
    mapper = pyd.MAPPERS.get(target.name)
    if mapper is None:
        return Result("normalize", target.name, "", "", None, TARGET, ">=", skipped="no pydantic mapping for it")
    conv_id = make_inbox(1, 0).conversations[0].id
    vendor = emulator(target.name, 1, MESSAGES)
    bodies: list[bytes] = []

    def record(request: httpx.Request) -> httpx.Response:
        response = vendor(request)
        bodies.append(response.read())
        return response

    settings = target.client_settings("https://emulator.invalid")
    with linkmsg.Client(target.name, http_transport=httpx.MockTransport(record), **settings) as client:
        expected = list(client.iter_messages(conv_id))
        provider = client.provider
    page_size = provider.max_page_size
    ref = ConversationTarget(parse_conversation_id(conv_id, mailbox_urn=provider.mailbox_urn))
    loads = _loads()

    def linkmsg_side() -> list[Any]:
        out: list[Any] = []
        position = None
        for body in bodies:
            op = provider.list_messages(ref, limit=page_size, position=position)
            next(op)
            try:
                op.send(Response(200, {"content-type": "application/json"}, loads(body)))
            except StopIteration as stop:
                page = stop.value
            else:
                raise RuntimeError("the operation asked for a second request")
            out.extend(page.items)
            position = page.next_position
        return out

    def pydantic_side() -> list[Any]:
        out: list[Any] = []
        for body in bodies:
            out.extend(mapper(body, conv_id))
        return out

    ours, theirs = linkmsg_side(), pydantic_side()
    seen: set[str] = set()
    theirs_unique = [m for m in theirs if not (m.id in seen or seen.add(m.id))]  # type: ignore[func-returns-value]
    same = [pyd.comparable(m) for m in ours] == [pyd.comparable(m) for m in theirs_unique]
    same = same and [pyd.comparable(m) for m in expected] == [pyd.comparable(m) for m in ours]
    vendor_messages = len(theirs)

    times = alternate({"linkmsg": linkmsg_side, "pydantic": pydantic_side}, runs)
    ratio = paired_ratio(times["pydantic"], times["linkmsg"])  # throughput ratio = inverse time ratio
    ours_rate = vendor_messages / median(times["linkmsg"])
    theirs_rate = vendor_messages / median(times["pydantic"])
    return Result(
        "normalize",
        target.name,
        figure=f"{ours_rate / 1000:.0f}k msg/s",
        baseline=f"{theirs_rate / 1000:.0f}k msg/s pydantic",
        ratio=ratio,
        target=TARGET,
        op=">=",
        note=f"{vendor_messages} vendor messages in {len(bodies)} pages; same output: {'yes' if same else 'NO'}",
        checks={"same output as the pydantic mapping": same},
        details={"messages": vendor_messages, "pages": len(bodies), "times": times, "same_output": same},
    )
