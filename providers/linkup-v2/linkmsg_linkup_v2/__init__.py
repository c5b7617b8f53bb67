"""linkmsg provider for the LinkupAPI v2 action API: ``linkmsg.Client(provider="linkup-v2", ...)``."""

from __future__ import annotations

from linkmsg_linkup_v2.emulator import LinkupV2Emulator
from linkmsg_linkup_v2.provider import LinkupV2Provider, LinkupV2Settings

__all__ = ["LinkupV2Emulator", "LinkupV2Provider", "LinkupV2Settings"]
