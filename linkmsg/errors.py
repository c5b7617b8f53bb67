"""The one exception hierarchy of linkmsg.

Every failure a user can cause or a vendor can produce surfaces as a
:class:`LinkmsgError`. Messages say what went wrong and what to do; they never
contain a credential (the transport scrubs vendor text before it gets here).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "InvalidArgument",
    "InvalidCursor",
    "InvalidIdentifier",
    "LinkmsgError",
    "NotFoundError",
    "PaginationError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "ProviderError",
    "ProviderNotFound",
    "RateLimitError",
    "ResponseShapeError",
    "SendOutcomeUnknown",
    "ServerError",
    "TransportError",
    "UnsupportedOperation",
]


class LinkmsgError(Exception):
    """Base class of every exception linkmsg raises.

    ``credits_used``: the vendor credits the failed call had already spent on
    the requests before the one that failed (a reply that looked up its
    recipient first, say), None when none are known. The client adds them to
    its ``credits_used`` too; what the failing request itself cost, if
    anything, the vendor does not say.
    """

    credits_used: float | None = None


class ConfigError(LinkmsgError):
    """Settings are missing, unknown or invalid (names the profile and key)."""


class ProviderNotFound(ConfigError):
    """No installed provider has the requested name."""

    def __init__(self, name: str, installed: Iterable[str]) -> None:
        self.name = name
        self.installed = tuple(sorted(installed))
        listed = ", ".join(self.installed) or "none"
        super().__init__(
            f"no provider named {name!r} is installed (installed: {listed}); "
            f"install its plugin, e.g. `pip install linkmsg-{name}`"
        )


class InvalidIdentifier(LinkmsgError, ValueError):
    """A conversation, message or profile identifier is in no known form."""


class UnsupportedOperation(LinkmsgError):
    """The provider does not offer this operation.

    Raised before any request, except where only a read can tell (a reply
    into what turns out to be a group thread); ``credits_used`` then says
    what the read cost.
    """

    def __init__(self, provider: str, capability: str, detail: str = "") -> None:
        self.provider = provider
        self.capability = capability
        msg = f"provider {provider!r} does not support {capability!r}"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class InvalidCursor(LinkmsgError, ValueError):
    """A cursor is corrupted or belongs to another provider or listing."""


class TransportError(LinkmsgError):
    """The request could not be completed at the network level (after retries)."""


class SendOutcomeUnknown(LinkmsgError):
    """A send may or may not have reached the vendor; it was not retried.

    Reconcile with :meth:`linkmsg.Client.reconcile_send`, which reads the
    conversation and reports whether the message landed.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        text: str,
        to: str | None = None,
        conversation_id: str | None = None,
        attempted_at: Any = None,
    ) -> None:
        self.provider = provider
        self.text = text
        self.to = to
        self.conversation_id = conversation_id
        self.attempted_at = attempted_at
        super().__init__(message)


class ProviderError(LinkmsgError):
    """The vendor answered with an error.

    ``provider`` names the provider, ``status`` the HTTP status (None when the
    vendor signalled the error inside a 2xx body), ``code`` the vendor's error
    code if it gives one, ``vendor_message`` the vendor's own words.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        code: str | None = None,
        vendor_message: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.code = code
        self.vendor_message = vendor_message
        if retryable is not None:
            self.retryable = retryable
        super().__init__(message)


class AuthenticationError(ProviderError):
    """Credentials were rejected (bad key, expired session: renew and retry)."""


class PermissionDeniedError(AuthenticationError):
    """Credentials are valid but not allowed (trial expired, no seat, inactive account)."""


class PaymentRequiredError(ProviderError):
    """The account has run out of credits; top up before retrying."""


class NotFoundError(ProviderError):
    """The conversation, profile or resource does not exist."""


class RateLimitError(ProviderError):
    """The vendor (or LinkedIn behind it) throttled the call.

    ``retry_after`` is the number of seconds to wait, when known.
    """

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(ProviderError):
    """The vendor failed (5xx or an internal error code)."""

    retryable = True


class ResponseShapeError(ProviderError):
    """The vendor's response does not have the documented shape.

    ``path`` is the location of the bad field, e.g. ``data.messages[3].time``.
    """

    def __init__(self, message: str, *, path: str = "", **kwargs: Any) -> None:
        self.path = path
        kwargs.setdefault("provider", "?")
        super().__init__(message, **kwargs)


class InvalidArgument(LinkmsgError, ValueError):
    """A call was given an argument it cannot use (says which and why)."""


class PaginationError(ProviderError):
    """The vendor's paging went wrong (a cursor that repeats or never advances)."""
