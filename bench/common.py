"""Shared pieces: results, alternating measurement, medians."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Result:
    """One figure: ``ratio`` compared with ``target`` by ``op`` (``"<="`` or ``">="``)."""

    benchmark: str
    provider: str
    figure: str  # what was measured, human-readable, e.g. "31.2 ms"
    baseline: str  # the baseline figure, human-readable
    ratio: float | None
    target: float | None
    op: str = "<="
    note: str = ""
    checks: dict[str, bool] = field(default_factory=dict)  # extra pass/fail conditions
    details: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""

    @property
    def passed(self) -> bool | None:
        if self.skipped or self.ratio is None or self.target is None:
            return None
        ok = self.ratio <= self.target if self.op == "<=" else self.ratio >= self.target
        return ok and all(self.checks.values())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


def alternate(runs: dict[str, Callable[[], Any]], n: int, *, collect: bool = True) -> dict[str, list[float]]:
    """Time each callable ``n`` times, interleaved (A B C A B C ...), wall-clock seconds.

    The order inside each round rotates, so neither side always runs first
    (after the other has warmed the caches or the CPU clock).
    """
    names = list(runs)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(n):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            if collect:
                gc.collect()
            started = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - started)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def paired_ratio(candidate: list[float], baseline: list[float]) -> float:
    """The median of the per-round ratios: robust to a machine that speeds up or slows down."""
    return statistics.median(c / b for c, b in zip(candidate, baseline, strict=True))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
