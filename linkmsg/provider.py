"""The provider contract.

A provider turns linkmsg operations into vendor requests and vendor JSON into
the model. Its operations are *sans-IO* generators: they yield
:class:`Request` values, receive :class:`Response` values, and return a result.
They never touch the network, sleep or retry; :mod:`linkmsg.client` drives
them with httpx (sync or async), and :mod:`linkmsg.transport` adds auth,
timeouts, retries, rate limiting and error mapping.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar

import attrs

from linkmsg.errors import (
    AuthenticationError,
    LinkmsgError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    UnsupportedOperation,
)
from linkmsg.identity import ConversationRef, ProfileRef
from linkmsg.model import Capability, Conversation, Message, SendResult

__all__ = [
    "ConversationTarget",
    "HTTPSettings",
    "Operation",
    "Position",
    "Provider",
    "Request",
    "Response",
    "SendRequest",
    "Settings",
    "VendorPage",
    "error_from_status",
    "secret",
    "spent_before",
]

T = TypeVar("T")
E = TypeVar("E", bound=LinkmsgError)
#: The vendor's own place in a listing: an opaque token, a ms timestamp, a page
#: number, or a small JSON object. It must survive a JSON round trip.
Position: TypeAlias = str | int | dict[str, Any]


@attrs.frozen(slots=True)
class Request:
    """One HTTP request, before auth is added.

    ``is_send`` marks a request that may deliver a message: the transport never
    retries it once it may have reached the vendor. ``spent``: the credits the
    operation already spent on its earlier requests; if the operation fails at
    this request, the client still counts them (see :func:`spent_before`).
    """

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    is_send: bool = False
    spent: float | None = None


@attrs.frozen(slots=True)
class Response:
    """One HTTP response: status, lower-cased headers, decoded JSON body."""

    status: int
    headers: Mapping[str, str]
    data: Any
    url: str = ""
    text: str = attrs.field(default="", repr=False)


def spent_before(error: E, credits: float | None) -> E:
    """``error``, noting the ``credits`` its operation spent before raising it.

    For an operation that fails after paid requests (a lookup that found no
    recipient): the client adds them to its ``credits_used``. A note already
    on the error is kept.
    """
    if credits and error.credits_used is None:
        error.credits_used = credits
    return error


#: A sans-IO operation: yields requests, receives responses, returns a value.
Operation: TypeAlias = Generator[Request, Response, T]


@attrs.frozen(slots=True)
class VendorPage(Generic[T]):
    """A page as a provider returns it; the client turns it into a :class:`Page`.

    ``next_position`` is None at the end of the listing.
    """

    items: Sequence[T]
    next_position: Position | None = None
    total: int | None = None
    credits_used: float | None = None


@attrs.frozen(slots=True)
class ConversationTarget:
    """A conversation as the caller named it: parsed id plus the object, if given."""

    ref: ConversationRef
    conversation: Conversation | None = None


@attrs.frozen(slots=True)
class SendRequest:
    """Everything a provider needs to send one message."""

    text: str
    to: ProfileRef | None = None
    conversation: ConversationTarget | None = None
    typing: bool = True
    subject: str | None = None
    inmail: bool = False
    media_url: str | None = None


# ---------------------------------------------------------------- settings


def _mask(value: object) -> str:
    return "None" if value is None else "'***'"


def secret(**kwargs: Any) -> Any:
    """An attrs field for a credential: masked in ``repr``, flagged for redaction."""
    metadata = dict(kwargs.pop("metadata", {}) or {})
    metadata["secret"] = True
    return attrs.field(repr=_mask, metadata=metadata, **kwargs)


@attrs.frozen(kw_only=True, slots=True)
class Settings:
    """Base of every provider's settings. Secrets are declared with :func:`secret`."""

    def secret_values(self) -> tuple[str, ...]:
        values = []
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if field.metadata.get("secret") and isinstance(value, str) and value:
                values.append(value)
        return tuple(values)


def _non_negative(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"{attribute.name} must be a number >= 0, got {value!r}")


def _positive(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{attribute.name} must be a number > 0, got {value!r}")


def _count(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


def _rate(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        from linkmsg.transport import parse_rate  # the transport owns the format

        parse_rate(value)


@attrs.frozen(kw_only=True, slots=True)
class HTTPSettings(Settings):
    """Transport settings every HTTP provider accepts (per client; per call with
    ``client.with_options(...)``). Defaults:

    - ``connect_timeout=5`` s to open a connection; ``timeout=30`` s for each
      read, write and pool wait (vendors drive a real LinkedIn session, so
      answers of several seconds are normal).
    - ``max_retries=2``: a read is tried at most 3 times. Retried: connection
      errors, timeouts, cut or truncated answers, HTTP 408, 429 and 5xx, and
      vendor errors the provider marks retryable. Never retried: 400, 401,
      403, 404 and other client errors.
    - Backoff: ``backoff * 2**(n-1)`` seconds before retry n (0.5, 1, 2, ...),
      capped at ``max_backoff=8``, jittered down to 50-100 % of that. A wait the
      vendor asks for (``Retry-After`` in seconds or as an HTTP date,
      ``Retry-After-Ms``; on a 429 also ``X-RateLimit-Reset`` and a body
      ``holdUntil``/``retry_after``) replaces the backoff.
    - ``max_retry_wait=60``: a wait longer than this (asked for by the vendor,
      or by the client-side rate limit) raises :class:`RateLimitError` with
      ``retry_after`` instead of sleeping.
    - ``deadline=120`` s for one call, retries and waits included; no attempt's
      timeout runs past it.
    - Sends are never retried once the request may have reached the vendor:
      that raises :class:`SendOutcomeUnknown` (see ``Client.reconcile_send``).
      A send that provably never left (connection refused, DNS failure,
      connect timeout) is retried like a read.
    - ``rate_limit=None``: no client-side limit; ``"30/min"``, ``"5/10s"``,
      ``"1000/hour"`` or ``"100/day"`` limits request starts per provider
      account, shared by every sync and async client of that account in the process.
    - ``max_concurrency=16``: requests in flight at once per ``AsyncClient``
      (and its ``with_options`` copies).
    """

    base_url: str
    timeout: float = attrs.field(default=30.0, validator=_positive)
    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    max_retries: int = attrs.field(default=2, validator=_count)
    backoff: float = attrs.field(default=0.5, validator=_non_negative)
    max_backoff: float = attrs.field(default=8.0, validator=_non_negative)
    max_retry_wait: float = attrs.field(default=60.0, validator=_non_negative)
    deadline: float = attrs.field(default=120.0, validator=_positive)
    rate_limit: str | None = attrs.field(default=None, validator=_rate)
    max_concurrency: int = attrs.field(default=16, validator=_positive)

    def account_key(self) -> str:
        """What the client-side rate limit is shared by; providers override."""
        return self.base_url


# ---------------------------------------------------------------- errors


def error_from_status(
    status: int | None,
    message: str,
    *,
    provider: str,
    code: str | None = None,
    retry_after: float | None = None,
    vendor_message: str | None = None,
) -> ProviderError:
    """The typed error for an HTTP status; providers refine it with their codes."""
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "code": code,
        "vendor_message": vendor_message,
    }
    if status == 401:
        return AuthenticationError(message, **kwargs)
    if status == 403:
        return PermissionDeniedError(message, **kwargs)
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status == 429:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if status == 408:
        return ServerError(message, **kwargs)
    if status is not None and status >= 500:
        return ServerError(message, **kwargs)
    return ProviderError(message, **kwargs)


def _vendor_text(data: Any) -> str | None:
    """Best-effort human text from a generic error body."""
    if isinstance(data, Mapping):
        for key in ("message", "error", "detail", "msg"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping):
                inner = _vendor_text(value)
                if inner:
                    return inner
    return None


# ---------------------------------------------------------------- provider


class Provider:
    """Base class of providers. Subclasses set the class attributes and
    implement the operations their capabilities declare."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: Capabilities that linkmsg emulates on the client rather than the vendor.
    emulated: ClassVar[frozenset[Capability]] = frozenset()
    settings_class: ClassVar[type[Settings]] = Settings
    default_page_size: ClassVar[int] = 20
    max_page_size: ClassVar[int] = 100
    #: Extra keyword filters ``list_conversations`` accepts (e.g. ``category``).
    conversation_options: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.settings!r}>"

    # -- transport hooks -------------------------------------------------

    def auth_headers(self) -> Mapping[str, str]:
        return {}

    def auth_body(self) -> Mapping[str, Any]:
        """Fields merged into every JSON object body (e.g. a session token)."""
        return {}

    def error_for(self, response: Response) -> ProviderError | None:
        """The error a response stands for, or None for success.

        The default maps any status >= 400 by status, with the vendor's text;
        providers override it for error envelopes inside 2xx bodies.
        """
        if response.status < 400:
            return None
        text = _vendor_text(response.data)
        message = f"{self.name} answered HTTP {response.status}"
        if text:
            message += f": {text}"
        return error_from_status(response.status, message, provider=self.name, vendor_message=text)

    # -- identity ----------------------------------------------------------

    @property
    def mailbox_urn(self) -> str | None:
        """The mailbox owner's profile URN, when the provider knows it."""
        return None

    # -- operations (sans-IO generators) ------------------------------------

    def _unsupported(self, capability: Capability) -> UnsupportedOperation:
        return UnsupportedOperation(self.name, capability.value)

    def list_conversations(
        self,
        *,
        limit: int,
        unread: bool | None,
        keywords: str | None,
        position: Position | None,
        options: Mapping[str, Any],
    ) -> Operation[VendorPage[Conversation]]:
        raise self._unsupported(Capability.LIST_CONVERSATIONS)

    def list_messages(
        self, target: ConversationTarget, *, limit: int, position: Position | None
    ) -> Operation[VendorPage[Message]]:
        raise self._unsupported(Capability.READ_HISTORY)

    def send_message(self, request: SendRequest) -> Operation[SendResult]:
        raise self._unsupported(Capability.SEND_TO_PROFILE)

    def send_typing(self, target: ConversationTarget) -> Operation[None]:
        raise self._unsupported(Capability.TYPING)

    def mark_read(self, target: ConversationTarget) -> Operation[None]:
        raise self._unsupported(Capability.MARK_READ)
