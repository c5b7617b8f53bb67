"""``python -m bench.pool [FILE ...]``: each figure pooled over several runs' JSON results.

One run's median moves with the machine; the rounds of many runs together
say where a figure really sits. For every benchmark and provider found in
the files (default: every file in ``bench/results/``) this prints how many
runs passed, the range of their ratios, and, where the results keep each
round's times (overhead, concurrency), the median and quartiles of all rounds'
ratios pooled.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.__main__ import RESULTS


def round_ratios(result: dict[str, Any]) -> list[float]:
    """Each round's ratio, for the benchmarks whose results keep per-round times."""
    details = result.get("details") or {}
    times = details.get("times")
    if result["benchmark"] == "overhead" and isinstance(times, dict):
        return [a / b for a, b in zip(times["linkmsg"], times["raw"], strict=True)]
    if result["benchmark"].startswith("concurrency") and isinstance(times, list) and details.get("bound"):
        return [t / details["bound"] for t in times]
    return []


def pool(files: list[Path]) -> str | None:
    """The pooled report, or None when no file could be read."""
    runs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    read = 0
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"skipping {path}: {exc}", file=sys.stderr)
            continue
        read += 1
        for result in document.get("results", []):
            if not result.get("skipped") and result.get("ratio") is not None:
                runs[result["benchmark"], result["provider"]].append(result)
    if not read:
        return None
    lines = [f"{read} result file(s)", ""]
    for (benchmark, provider), results in runs.items():
        ratios = [r["ratio"] for r in results]
        passed = sum(1 for r in results if r.get("passed"))
        target = results[-1].get("target")
        op = results[-1].get("op", "<=")
        line = (
            f"{benchmark} / {provider}: passed {passed} of {len(results)} runs (target {op} {target:g}), "
            f"run ratios {min(ratios):.2f}-{max(ratios):.2f}"
        )
        rounds = [x for r in results for x in round_ratios(r)]
        if len(rounds) > 1:
            low, middle, high = statistics.quantiles(rounds, n=4)
            line += f"; {len(rounds)} rounds pooled: median {middle:.2f}, quartiles {low:.2f}-{high:.2f}"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pool", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help=f"result files (default: {RESULTS}/*.json)")
    args = parser.parse_args(argv)
    files = args.files or sorted(RESULTS.glob("*.json"))
    if not files:
        parser.error(f"no result files in {RESULTS}: run python -m bench first")
    report = pool(files)
    if report is None:
        parser.error("none of the result files could be read")
    print(report)


if __name__ == "__main__":
    main()
