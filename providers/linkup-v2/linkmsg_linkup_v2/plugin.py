"""Entry point of the ``linkup-v2`` provider (group ``linkmsg``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from linkmsg.hookspecs import hookimpl
from linkmsg_linkup_v2.provider import LinkupV2Provider


@hookimpl
def register_providers(register: Callable[[type[Any]], None]) -> None:
    register(LinkupV2Provider)
