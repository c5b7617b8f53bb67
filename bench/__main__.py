"""``python -m bench``: every benchmark, a table, and JSON results in ``bench/results/``.

Options: ``--only overhead,normalize,concurrency,memory,import``,
``--providers connectsafely,linkup`` (default: every installed first-party
provider), ``--runs N`` (alternating rounds per figure, default 7).
The exit status is 0 when every target is met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import Result

BENCHMARKS = ("overhead", "normalize", "concurrency", "memory", "import")
RESULTS = Path(__file__).resolve().parent / "results"


def _row(r: Result) -> list[str]:
    if r.skipped:
        return [r.benchmark, r.provider, "-", "-", "-", "-", f"SKIP ({r.skipped})"]
    unit = " MB" if r.benchmark == "memory" else "x"
    ratio = "-" if r.ratio is None else (f"{r.ratio:.1f}" if unit == " MB" else f"{r.ratio:.2f}") + unit
    target = "-" if r.target is None else f"{r.op} {r.target:g}{unit}"
    failed = [name for name, ok in r.checks.items() if not ok]
    verdict = "PASS" if r.passed else "FAIL" + (f" ({'; '.join(failed)})" if failed else "")
    return [r.benchmark, r.provider, r.figure, r.baseline, ratio, target, verdict]


def table(results: list[Result]) -> str:
    head = ["benchmark", "provider", "measured", "baseline", "ratio", "target", "result"]
    rows = [head] + [_row(r) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(results: list[Result]) -> str:
    head = ["benchmark", "provider", "measured", "baseline", "ratio", "target", "result"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in _row(r)) + " |" for r in results]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument("--providers", default="", help="comma-separated provider names (default: installed)")
    parser.add_argument("--runs", type=int, default=7, help="alternating rounds per figure (default 7)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)

    from bench import concurrency, importtime, memory, normalize, overhead
    from bench.targets import selected

    only = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    try:
        targets, notes = selected([p.strip() for p in args.providers.split(",") if p.strip()] or None)
    except ValueError as exc:
        parser.error(str(exc))
    runs = max(1, args.runs)
    started = time.perf_counter()
    results: list[Result] = []

    def note(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    for text in notes:
        note(text)
    for name in only:
        if name == "import":
            note("import time ...")
            results.append(importtime.run(runs))
            continue
        for target in targets:
            note(f"{name}: {target.name} ...")
            t = time.perf_counter()
            if name == "overhead":
                results.append(overhead.run(target, runs))
            elif name == "normalize":
                results.append(normalize.run(target, runs))
            elif name == "concurrency":
                results.extend(concurrency.run(target, runs))
            elif name == "memory":
                results.append(memory.run(target, runs))
            note(f"  ({time.perf_counter() - t:.1f}s)")
    elapsed = time.perf_counter() - started

    print()
    print(table(results))
    print()
    for r in results:
        if r.note:
            print(f"- {r.benchmark} / {r.provider}: {r.note}")
    command = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
    print(f"\n{len(results)} figures in {elapsed:.0f}s on {os.cpu_count()} CPUs; command: {command}")
    if args.markdown:
        print()
        print(markdown(results))

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document: dict[str, Any] = {
        "when": stamp,
        "command": command,
        "seconds": elapsed,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "results": [r.to_json() for r in results],
        "notes": notes,
    }
    text = json.dumps(document, indent=2, default=str)
    (RESULTS / f"bench-{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(f"results: {RESULTS / f'bench-{stamp}.json'}")
    return 0 if all(r.passed for r in results if not r.skipped) else 1


if __name__ == "__main__":
    sys.exit(main())
