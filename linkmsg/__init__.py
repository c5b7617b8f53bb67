"""linkmsg: one API over the HTTP APIs that expose a LinkedIn inbox.

Names are imported lazily so ``import linkmsg`` stays cheap; provider plugins
are discovered on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from linkmsg.errors import (
    AuthenticationError,
    ConfigError,
    InvalidArgument,
    InvalidCursor,
    InvalidIdentifier,
    LinkmsgError,
    NotFoundError,
    PaginationError,
    PaymentRequiredError,
    PermissionDeniedError,
    ProviderError,
    ProviderNotFound,
    RateLimitError,
    ResponseShapeError,
    SendOutcomeUnknown,
    ServerError,
    TransportError,
    UnsupportedOperation,
)

if TYPE_CHECKING:
    from linkmsg.client import AsyncClient, Client
    from linkmsg.hookspecs import hookimpl
    from linkmsg.model import (
        Attachment,
        Capability,
        Conversation,
        Message,
        MessageKind,
        Page,
        Participant,
        Reaction,
        SendResult,
    )
    from linkmsg.registry import ProviderInfo, available_providers

__version__ = "0.1.0"

_LAZY = {
    "Client": "linkmsg.client",
    "AsyncClient": "linkmsg.client",
    "hookimpl": "linkmsg.hookspecs",
    "ProviderInfo": "linkmsg.registry",
    "available_providers": "linkmsg.registry",
    **{
        name: "linkmsg.model"
        for name in (
            "Attachment",
            "Capability",
            "Conversation",
            "Message",
            "MessageKind",
            "Page",
            "Participant",
            "Reaction",
            "SendResult",
        )
    },
}

__all__ = [
    "AsyncClient",
    "Attachment",
    "AuthenticationError",
    "Capability",
    "Client",
    "ConfigError",
    "Conversation",
    "InvalidArgument",
    "InvalidCursor",
    "InvalidIdentifier",
    "LinkmsgError",
    "Message",
    "MessageKind",
    "NotFoundError",
    "Page",
    "PaginationError",
    "Participant",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "ProviderError",
    "ProviderInfo",
    "ProviderNotFound",
    "RateLimitError",
    "Reaction",
    "ResponseShapeError",
    "SendOutcomeUnknown",
    "SendResult",
    "ServerError",
    "TransportError",
    "UnsupportedOperation",
    "available_providers",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'linkmsg' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
