"""4. Memory: streaming 100,000 messages through ``iter_messages`` in constant memory.

The reliability work's fake vendor server (in its own process) serves one
conversation of 100,000 messages.
A fresh interpreter (``python -m bench.memory``) makes a client, reads one page
to load everything lazy, then records its resident set size, resets the kernel's
peak-RSS mark (``/proc/self/clear_refs``) and streams the conversation,
dropping each message as a real sync would. Growth = peak RSS during the
stream - RSS before it. The same is done for the first 10,000 messages: the
two growths should be about equal (constant, not proportional to the inbox).
Target: growth under 30 MB at 100,000.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import Result
from bench.server import FakeServer
from bench.targets import TARGETS, Target, prepare

MESSAGES = 100_000
SMALL = 10_000
LIMIT_MB = 30.0


def _status(key: str) -> float | None:
    """A /proc/self/status figure in MB, or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _child(name: str, url: str, count: int) -> dict[str, Any]:
    import linkmsg
    from bench.data import make_inbox

    prepare(name)
    conv_id = make_inbox(1, 0).conversations[0].id
    client = linkmsg.Client(name, **TARGETS[name].client_settings(url))
    client.list_messages(conv_id, limit=client.provider.max_page_size)  # warm: imports, caches, connection
    gc.collect()
    base = _status("VmRSS")
    reset = False
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset VmHWM (peak RSS) to the current RSS
        reset = True
    except OSError:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    n = 0
    for _ in client.iter_messages(conv_id):
        n += 1
        if n >= count:
            break
    seconds = time.perf_counter() - started
    peak = _status("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    client.close()
    return {"messages": n, "base_mb": base, "peak_mb": peak, "growth_mb": (peak or 0) - (base or 0), "seconds": seconds}


def _measure(name: str, url: str, count: int) -> dict[str, Any]:
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    out = subprocess.run(
        [sys.executable, "-m", "bench.memory", name, url, str(count)],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=240,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"memory child for {name} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(target: Target, runs: int) -> Result:
    with FakeServer("bench.targets:emulator", (target.name, 1, MESSAGES), cache=False, backend="reliability") as server:
        small = _measure(target.name, server.url, SMALL)
        big = _measure(target.name, server.url, MESSAGES)
    if big["messages"] != MESSAGES:
        raise RuntimeError(f"{target.name}: streamed {big['messages']} messages, expected {MESSAGES}")
    growth, growth_small = big["growth_mb"], small["growth_mb"]
    return Result(
        "memory",
        target.name,
        figure=f"+{growth:.1f} MB peak RSS",
        baseline=f"{big['base_mb']:.0f} MB before",
        ratio=growth,
        target=LIMIT_MB,
        note=f"100k msgs in {big['seconds']:.1f}s; first 10k: +{growth_small:.1f} MB",
        details={"100k": big, "10k": small},
    )


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
