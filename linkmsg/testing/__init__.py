"""Testing kits for linkmsg providers and for code that uses linkmsg.

* :class:`ProviderConformance` (:mod:`linkmsg.testing.conformance`, needs
  pytest): the contract every provider passes, run against your emulator.
* :mod:`linkmsg.testing.server`: :class:`~linkmsg.testing.server.FakeVendorServer`,
  a real HTTP server on 127.0.0.1 with scheduled faults (no pytest needed).
* :mod:`linkmsg.testing.plugin`: the pytest fixtures ``linkmsg_inbox`` and
  ``linkmsg_client``.

The conformance kit is imported on first use of one of its names, so
``import linkmsg.testing.server`` works where pytest is not installed, and
pytest's start-up (which loads the plugin, inside this package) does not pay
for the kit.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linkmsg.testing.conformance import (
        BASE_URL,
        Emulator,
        ProviderConformance,
        RecordingEmulator,
        conformance_inbox,
    )

__all__ = ["BASE_URL", "Emulator", "ProviderConformance", "RecordingEmulator", "conformance_inbox"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        try:
            kit = importlib.import_module("linkmsg.testing.conformance")
        except ModuleNotFoundError as exc:
            if exc.name != "pytest":
                raise
            raise ImportError(
                f"linkmsg.testing.{name} is part of the conformance kit, which runs under pytest: "
                "install pytest (pip install pytest) to use it"
            ) from exc
        value = getattr(kit, name)
        globals()[name] = value  # later look-ups skip this hook
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
