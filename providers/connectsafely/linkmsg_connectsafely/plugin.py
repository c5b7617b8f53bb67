"""Entry point ``linkmsg`` -> ``connectsafely``: registers the provider with linkmsg."""

from __future__ import annotations

from typing import Any

from linkmsg.hookspecs import hookimpl
from linkmsg_connectsafely.provider import ConnectSafelyProvider


@hookimpl
def register_providers(register: Any) -> None:
    register(ConnectSafelyProvider)
