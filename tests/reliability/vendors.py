"""How the fault matrix drives each vendor: emulator, credentials, and which requests are which.

The matrix is vendor-agnostic; a :class:`VendorProfile` tells it how to build
the emulator, which client settings to pass (real-looking secrets), how to
recognise a send request and a listing request on the wire, and the vendor's
documented error envelope in a 2xx body.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from linkmsg.errors import AuthenticationError, LinkmsgError, ProviderError, ServerError
from linkmsg.memory import Inbox
from linkmsg.testing.server import Emulator, RequestRecord

from .tiny import NAME as TINY
from .tiny import TinyEmulator

# Real-looking credentials: what a leak would look like. None may ever appear in
# a log line, an exception text, a repr or a cassette.
API_KEY = "sk_live_51NzQ8vKJ2mTq9xR4bW7cLpE3aYdF6gHs0uVi"
LOGIN_TOKEN = "AQEDARkJ8sYBx2dTAAABjX4vQ9kAAAGNokpY-k4AfQ7TgVq3NbLwzPyHc1xEr0Ui"
ACCOUNT_ID = "acc_7f3a9c2e41d84b6f"
SECRETS = (API_KEY, LOGIN_TOKEN)


def traces(secrets: tuple[str, ...] = SECRETS) -> tuple[str, ...]:
    """What a leak looks like: a whole secret, or its head or tail (a truncated echo is a leak too)."""
    return tuple(part for s in secrets for part in (s, s[:12], s[-12:]))


@attrs.frozen
class Wire:
    """A request as seen on the wire, from either the server log or an ``httpx.Request``."""

    method: str
    path: str
    body: Any

    @classmethod
    def of(cls, request: httpx.Request | RequestRecord) -> Wire:
        if isinstance(request, RequestRecord):
            return cls(request.method, request.path, request.json())
        try:
            body = json.loads(request.content) if request.content else None
        except ValueError:
            body = None
        return cls(request.method, request.url.path, body)


WirePredicate = Callable[[Wire], bool]


@attrs.frozen
class VendorProfile:
    name: str
    make_emulator: Callable[[Inbox], Emulator]
    settings: dict[str, Any]
    is_send: WirePredicate
    is_conversation_list: WirePredicate
    is_message_list: WirePredicate
    #: The vendor's documented "request failed" envelope in an HTTP 200, and the error it must raise.
    envelope_200: Any
    envelope_error: type[LinkmsgError] = ProviderError
    #: A 5xx the vendor documents, as a JSON body.
    server_error_body: Any = attrs.field(factory=lambda: {"error": "internal"})
    #: A vendor key of every message whose absence is a shape error.
    required_message_key: str = "sentAt"
    #: The vendor's 429 body; ``{hold}`` is replaced by an ISO timestamp when a test needs one.
    rate_limit_body: Any = attrs.field(factory=lambda: {"error": "rate limited"})
    endpoint_key: Callable[[httpx.Request], str] | None = None
    base_path: str = ""
    conversation_page: int = 3
    message_page: int = 10

    @property
    def secrets(self) -> tuple[str, ...]:
        """The credentials this vendor's client holds (only those can leak through it)."""
        return tuple(s for s in SECRETS if s in self.settings.values())

    def when(self, predicate: WirePredicate) -> Callable[[httpx.Request], bool]:
        """A ``Fault.when`` built from a wire predicate."""
        return lambda request: predicate(Wire.of(request))

    def count(self, records: list[RequestRecord], predicate: WirePredicate) -> int:
        return sum(1 for r in records if predicate(Wire.of(r)))


def _tiny() -> VendorProfile:
    return VendorProfile(
        name=TINY,
        make_emulator=lambda inbox: TinyEmulator(inbox, api_key=API_KEY, login_token=LOGIN_TOKEN),
        settings={"api_key": API_KEY, "login_token": LOGIN_TOKEN},
        is_send=lambda w: w.method == "POST" and w.path == "/messages",
        is_conversation_list=lambda w: w.method == "GET" and w.path == "/conversations",
        is_message_list=lambda w: w.method == "GET" and w.path.endswith("/messages"),
        envelope_200={"success": False, "error": {"message": "upstream LinkedIn call failed"}},
        envelope_error=ProviderError,
        server_error_body={"success": False, "error": {"message": "internal error"}},
        rate_limit_body={"success": False, "error": {"message": "slow down"}, "holdUntil": "{hold}"},
    )


def _body_field(wire: Wire, key: str) -> Any:
    return wire.body.get(key) if isinstance(wire.body, dict) else None


def _connectsafely() -> VendorProfile:
    emulator = importlib.import_module("linkmsg_connectsafely.emulator")

    def is_list(w: Wire) -> bool:
        return w.method == "GET" and w.path.endswith(("/recent-messages", "/linkedin/conversations"))

    return VendorProfile(
        name="connectsafely",
        make_emulator=lambda inbox: emulator.ConnectSafelyEmulator(inbox, api_key=API_KEY),
        settings={"api_key": API_KEY},
        is_send=lambda w: w.method == "POST" and "/send" in w.path,
        is_conversation_list=is_list,
        is_message_list=lambda w: (
            w.method == "GET" and ("conversation-details" in w.path or w.path.endswith("/messages"))
        ),
        envelope_200={"success": False, "error": "Unauthorized - Invalid credentials"},
        envelope_error=ProviderError,
        server_error_body={"success": False, "error": "Internal server error"},
        rate_limit_body={
            "success": False,
            "error": "Rate limit exceeded for MESSAGE: 100/100 used. Resets at 2026-04-28T00:00:00Z",
            "holdUntil": "{hold}",
        },
    )


def _linkup() -> VendorProfile:
    emulator = importlib.import_module("linkmsg_linkup.emulator")
    return VendorProfile(
        name="linkup",
        make_emulator=lambda inbox: emulator.LinkupEmulator(inbox, api_key=API_KEY, login_token=LOGIN_TOKEN),
        settings={"api_key": API_KEY, "login_token": LOGIN_TOKEN, "country": "US"},
        is_send=lambda w: w.method == "POST" and w.path.endswith("/send-message"),
        is_conversation_list=lambda w: w.path.endswith("/messages/inbox"),
        is_message_list=lambda w: w.path.endswith("/messages/conversation"),
        envelope_200={"status": "error", "message": "Session expired"},
        envelope_error=AuthenticationError,
        server_error_body={"status": "error", "message": "Server error"},
        required_message_key="timestamp",
        rate_limit_body={"status": "error", "message": "API Rate limit exceeded. Please try again later"},
    )


def _action(wire: Wire) -> Any:
    return _body_field(wire, "action")


def _linkup_v2() -> VendorProfile:
    emulator = importlib.import_module("linkmsg_linkup_v2.emulator")

    def endpoint_key(request: httpx.Request) -> str:
        return f"{request.method} {request.url.path} {_action(Wire.of(request))}"

    return VendorProfile(
        name="linkup-v2",
        make_emulator=lambda inbox: emulator.LinkupV2Emulator(inbox, api_key=API_KEY, account_id=ACCOUNT_ID),
        settings={"api_key": API_KEY, "account_id": ACCOUNT_ID},
        is_send=lambda w: _action(w) == "send",
        is_conversation_list=lambda w: _action(w) == "list_inbox",
        is_message_list=lambda w: _action(w) == "get_conversation",
        envelope_200={
            "success": False,
            "error": {"code": "INTERNAL_ERROR", "message": "retry after a few seconds"},
            "metadata": {"action": "list_inbox", "credits_consumed": 0, "timestamp": "2026-03-24T12:00:00Z"},
        },
        envelope_error=ServerError,
        server_error_body={
            "success": False,
            "error": {"code": "INTERNAL_ERROR", "message": "Internal error"},
            "metadata": {"credits_consumed": 0},
        },
        rate_limit_body={
            "success": False,
            "error": {"code": "RATE_LIMITED", "message": "back off exponentially"},
            "metadata": {"credits_consumed": 0},
        },
        required_message_key="timestamp",
        endpoint_key=endpoint_key,
    )


FACTORIES: dict[str, tuple[str | None, Callable[[], VendorProfile]]] = {
    TINY: (None, _tiny),
    "connectsafely": ("linkmsg_connectsafely.emulator", _connectsafely),
    "linkup": ("linkmsg_linkup.emulator", _linkup),
    "linkup-v2": ("linkmsg_linkup_v2.emulator", _linkup_v2),
}
