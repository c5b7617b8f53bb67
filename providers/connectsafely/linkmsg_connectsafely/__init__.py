"""linkmsg provider for the ConnectSafely LinkedIn messaging API (``provider="connectsafely"``)."""

from __future__ import annotations

from linkmsg_connectsafely.provider import BASE_URL, ConnectSafelyProvider, ConnectSafelySettings

__all__ = ["BASE_URL", "ConnectSafelyProvider", "ConnectSafelySettings"]
__version__ = "0.1.0"
