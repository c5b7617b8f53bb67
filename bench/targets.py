"""The providers the benchmarks run against, and how to build each one's emulator.

A target is a provider name plus the credentials its emulator expects and the
emulator class that renders an :class:`~linkmsg.memory.Inbox` as that vendor's
JSON. First-party targets are used when their plugin and emulator are
installed; ``bench-minimal`` (see :mod:`bench.minimal`) stands in when none is.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.data import make_inbox

API_KEY = "bench-key-0123456789"


@dataclass(frozen=True)
class Target:
    name: str
    emulator_ref: str  # "module:Class"
    settings: dict[str, Any] = field(default_factory=dict)  # client settings besides base_url
    emulator_kwargs: dict[str, Any] = field(default_factory=dict)
    base_path: str = ""  # appended to the server URL to make base_url

    def emulator_class(self) -> Any:
        module, _, name = self.emulator_ref.partition(":")
        return getattr(importlib.import_module(module), name)

    def available(self) -> str:
        """'' when usable, else why not."""
        if self.name == "bench-minimal":
            return ""
        try:
            from linkmsg.registry import available_providers

            if self.name not in available_providers():
                return f"provider {self.name!r} is not installed"
            self.emulator_class()
        except Exception as exc:  # noqa: BLE001 - report, do not crash the run
            return f"{type(exc).__name__}: {exc}"
        return ""

    def client_settings(self, server_url: str) -> dict[str, Any]:
        return {"base_url": server_url + self.base_path, **self.settings}


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "connectsafely",
            "linkmsg_connectsafely.emulator:ConnectSafelyEmulator",
            {"api_key": API_KEY},
            {"api_key": API_KEY},
        ),
        Target(
            "linkup",
            "linkmsg_linkup.emulator:LinkupEmulator",
            {"api_key": API_KEY, "login_token": "bench-login-token-0123", "country": "US"},
            {"api_key": API_KEY, "login_token": "bench-login-token-0123"},
        ),
        Target(
            "linkup-v2",
            "linkmsg_linkup_v2.emulator:LinkupV2Emulator",
            {"api_key": API_KEY, "account_id": "acc_bench"},
            {"api_key": API_KEY, "account_id": "acc_bench"},
        ),
        Target("bench-minimal", "bench.minimal:MinimalEmulator", {"api_key": API_KEY}, {"api_key": API_KEY}),
    )
}
FIRST_PARTY = ("connectsafely", "linkup", "linkup-v2")


def prepare(name: str) -> None:
    """Make ``name`` usable in this process (registers bench-minimal)."""
    if name == "bench-minimal":
        from bench.minimal import register

        register()


def emulator(name: str, conversations: int, messages: int, seed: int = 3) -> Callable[[httpx.Request], httpx.Response]:
    """The server-side factory: an emulator of ``name`` over a benchmark inbox."""
    target = TARGETS[name]
    inbox = make_inbox(conversations, messages, seed)
    return target.emulator_class()(inbox, **target.emulator_kwargs)  # type: ignore[no-any-return]


def selected(names: list[str] | None) -> tuple[list[Target], list[str]]:
    """The targets to run and notes about the ones left out."""
    notes = []
    if names:
        unknown = [n for n in names if n not in TARGETS]
        if unknown:
            raise ValueError(f"unknown provider(s): {', '.join(unknown)}; known: {', '.join(TARGETS)}")
        chosen = [TARGETS[n] for n in names]
    else:
        chosen = []
        for n in FIRST_PARTY:
            why = TARGETS[n].available()
            if why:
                notes.append(f"{n}: skipped ({why})")
            else:
                chosen.append(TARGETS[n])
        if not chosen:
            notes.append("no first-party provider with an emulator is installed: running bench-minimal")
            chosen = [TARGETS["bench-minimal"]]
    return chosen, notes
