"""Entry point of the ``linkup`` provider (group ``linkmsg``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from linkmsg.hookspecs import hookimpl
from linkmsg_linkup.provider import LinkupProvider


@hookimpl
def register_providers(register: Callable[[type[Any]], None]) -> None:
    register(LinkupProvider)
