"""Pluggy hook specifications (project name ``linkmsg``).

A plugin module implements::

    from linkmsg import hookimpl

    @hookimpl
    def register_providers(register):
        register(MyProvider)

and is exposed through the ``linkmsg`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("linkmsg")
hookimpl = pluggy.HookimplMarker("linkmsg")


@hookspec
def register_providers(register: Callable[[type[Any]], None]) -> None:
    """Call ``register(ProviderClass)`` once for each provider the plugin brings."""
