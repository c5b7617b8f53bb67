"""linkmsg provider for LinkupAPI v1: ``linkmsg.Client(provider="linkup", ...)``.

:mod:`linkmsg_linkup.common` holds what LinkupAPI v1 and v2 share; the
``linkup-v2`` provider imports it. Importing it does not load the rest of this
package: the names below are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linkmsg_linkup.emulator import LinkupEmulator
    from linkmsg_linkup.provider import LinkupProvider, LinkupSettings

__all__ = ["LinkupEmulator", "LinkupProvider", "LinkupSettings"]

_HOMES = {
    "LinkupEmulator": "linkmsg_linkup.emulator",
    "LinkupProvider": "linkmsg_linkup.provider",
    "LinkupSettings": "linkmsg_linkup.provider",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'linkmsg_linkup' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
