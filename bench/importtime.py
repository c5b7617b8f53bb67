"""5. Import time: ``import linkmsg`` versus ``import httpx``, each in a fresh interpreter.

Each sample is a new ``python -c`` process that times only the import
statement (``time.perf_counter`` around it), so interpreter start-up is not
counted; linkmsg and httpx samples alternate. The same process checks that
importing linkmsg discovered no plugin (no entry points read, no provider
module imported). ``from linkmsg import Client`` (which needs httpx itself) is
measured for information.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.common import Result, median, paired_ratio

TARGET = 1.5

_PROBE = """
import sys, time, json
t = time.perf_counter()
{stmt}
elapsed = time.perf_counter() - t
lazy = not any(m.startswith(("linkmsg_", "pluggy", "linkmsg.registry")) for m in sys.modules)
print(json.dumps({{"seconds": elapsed, "lazy": lazy}}))
"""


def _sample(stmt: str) -> dict[str, float | bool]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(stmt=stmt)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def run(runs: int) -> Result:
    n = max(runs, 7)
    stmts = {"linkmsg": "import linkmsg", "httpx": "import httpx", "client": "from linkmsg import Client"}
    times: dict[str, list[float]] = {k: [] for k in stmts}
    lazy = True
    for i in range(n):
        order = list(stmts)[i % 3 :] + list(stmts)[: i % 3]
        for name in order:
            sample = _sample(stmts[name])
            times[name].append(float(sample["seconds"]))
            if name == "linkmsg":
                lazy = lazy and bool(sample["lazy"])
    ratio = paired_ratio(times["linkmsg"], times["httpx"])
    return Result(
        "import",
        "-",
        figure=f"{median(times['linkmsg']) * 1000:.1f} ms",
        baseline=f"{median(times['httpx']) * 1000:.1f} ms import httpx",
        ratio=ratio,
        target=TARGET,
        note=f"plugins discovered lazily: {'yes' if lazy else 'NO'}; "
        f"`from linkmsg import Client`: {median(times['client']) * 1000:.1f} ms",
        checks={"no plugin discovered at import": lazy},
        details={"times": times, "samples": n},
    )
