"""``Client`` and ``AsyncClient``: drive a provider's sans-IO operations over httpx.

Everything that is not I/O (argument parsing, capability checks, cursor
encoding, dedup and loop detection, credit accounting) lives in
:class:`_ClientCore` and :class:`Pager`, shared by both clients.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import operator
import os
import ssl
import threading
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import attrs
import httpx

from linkmsg import cursor as _cursor
from linkmsg.config import ResolvedConfig, build_settings, resolve
from linkmsg.errors import (
    InvalidArgument,
    InvalidIdentifier,
    LinkmsgError,
    PaginationError,
    ResponseShapeError,
    SendOutcomeUnknown,
    UnsupportedOperation,
)
from linkmsg.identity import ProfileRef, parse_conversation_id, parse_profile
from linkmsg.model import Capability, Conversation, Message, Page, Participant, SendResult
from linkmsg.provider import (
    ConversationTarget,
    HTTPSettings,
    Operation,
    Provider,
    Request,
    Response,
    SendRequest,
    VendorPage,
)
from linkmsg.registry import get_provider_class
from linkmsg.transport import AsyncTransport, SyncTransport

__all__ = ["AsyncClient", "Client", "Pager"]

T = TypeVar("T")
R = TypeVar("R")
C = TypeVar("C", bound="_ClientCore")
_MAX_EMPTY_PAGES = 3
#: Message ids a history listing remembers to drop repeats (constant memory; see Pager).
_DEDUP_WINDOW = 10_000
#: Transport settings ``with_options`` may override for the calls of the client it returns.
_CALL_OPTIONS = frozenset(
    {"max_retries", "timeout", "connect_timeout", "deadline", "backoff", "max_backoff", "max_retry_wait"}
)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One default TLS context for every client: loading the CA bundle costs ~40 ms each time."""
    return httpx.create_ssl_context()


class _NoCookies(httpx.Cookies):
    """Cookies that are never kept: linkmsg builds its requests without any.

    httpx parses every response's ``Set-Cookie`` into the client's jar (a
    load balancer's, a vendor session's) and holds it for the client's life;
    linkmsg never sends one back, so that work and memory are skipped.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _Cookieless:
    """For linkmsg's own httpx clients: ``cookies`` is a :class:`_NoCookies` of their own."""

    _no_cookies: _NoCookies | None = None

    @property
    def cookies(self) -> httpx.Cookies:
        if self._no_cookies is None:
            self._no_cookies = _NoCookies()
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        if cookies is not None:  # None: what an httpx version setting its default would pass
            raise ValueError("linkmsg's HTTP clients keep no cookies")


class _HTTPClient(_Cookieless, httpx.Client):
    pass


class _AsyncHTTPClient(_Cookieless, httpx.AsyncClient):
    pass


class _SyncPool:
    """One ``httpx.Client``, made on first use and shared by a client and its ``with_options`` copies."""

    def __init__(self, transport: httpx.BaseTransport | None) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self.http: httpx.Client | None = None

    def get(self) -> httpx.Client:
        with self._lock:
            if self.http is None:
                self.http = _HTTPClient(transport=self._transport, verify=_ssl_context())
            return self.http

    def close(self) -> None:
        with self._lock:
            http, self.http = self.http, None
        if http is not None:
            http.close()


class _AsyncPool:
    """The async twin of :class:`_SyncPool`, plus the one concurrency bound its clients share."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None) -> None:
        self._transport = transport
        self.http: httpx.AsyncClient | None = None
        self.semaphore: asyncio.Semaphore | None = None
        # A transport the caller chose (linkmsg.asynchttp's, a mock) is driven directly, past
        # httpx's client layer, unless proxies from the environment must be honoured: the
        # loop already builds each request, follows redirects and keeps no cookies.
        direct = transport is not None and not urllib.request.getproxies()
        self.direct: httpx.AsyncBaseTransport | None = transport if direct else None

    def get(self, settings: HTTPSettings) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        if self.http is None or self.semaphore is None:
            size = settings.max_concurrency
            limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
            self.http = _AsyncHTTPClient(transport=self._transport, limits=limits, verify=_ssl_context())
            self.semaphore = asyncio.Semaphore(size)
        return self.http, self.semaphore

    async def aclose(self) -> None:
        http, self.http, self.semaphore = self.http, None, None
        if http is not None:
            await http.aclose()


class Pager(Generic[T]):
    """Follows cursors across pages: yields each id once, stops on a loop.

    Without ``order_key`` every id is remembered (conversation listings: their
    order changes while they are read). With ``order_key`` (message history,
    newest first) only the last ``window`` ids are, so streaming a history of
    any length takes constant memory. That stays exact: an item whose id is in
    the window is a repeat; an item older than every forgotten one cannot be;
    anything else could repeat a forgotten item, and raises
    :class:`PaginationError` instead of risking a duplicate (a vendor would have
    to go back more than ``window`` messages for that). Nothing is ever dropped
    that was not yielded before.
    """

    def __init__(
        self,
        provider: str,
        id_of: Callable[[T], str],
        order_key: Callable[[T], Any] | None = None,
        window: int = _DEDUP_WINDOW,
    ) -> None:
        self.provider = provider
        self.id_of = id_of
        self.order_key = order_key
        self.window = window
        self.seen_ids: set[str] = set()
        self.seen_cursors: set[str] = set()
        self.empty_pages = 0
        self._fresh_in_last_page = 0
        # The remembered (windowed) ids, oldest first, one chunk per page: [orders, ids, start],
        # where entries before ``start`` are already forgotten. Whole pages are added and
        # forgotten with a few C-level calls instead of a Python step per message.
        self._chunks: collections.deque[list[Any]] = collections.deque()
        self._held = 0  # how many ids the chunks remember
        self._recent_cursors: collections.deque[str] = collections.deque()
        self._forgotten_min: Any = None  # the smallest order key among forgotten ids

    def accept(self, page: Page[T]) -> list[T]:
        items, order_key = page.items, self.order_key
        fresh = self._accept_all(items) if order_key is None else self._accept_windowed(items, order_key)
        self._fresh_in_last_page = len(fresh)
        return fresh

    def advance(self, page: Page[T]) -> str | None:
        """The cursor to follow after ``page`` (None at the end).

        Called after the page's new items were handed out, so a vendor that
        starts looping loses the caller nothing it had already sent.
        """
        nxt = page.next_cursor
        if nxt is not None:
            self._advance(nxt)
        return nxt

    def _advance(self, key: str) -> None:
        """Loop detection for a next page at ``key``: the cursor, or anything equal exactly when it is."""
        if key in self.seen_cursors:
            raise PaginationError(
                f"{self.provider} returned a cursor it had already returned; stopping instead of looping forever",
                provider=self.provider,
            )
        self.seen_cursors.add(key)
        if self.order_key is not None:
            # A loop longer than this many pages repeats forgotten items: caught below.
            self._recent_cursors.append(key)
            if len(self._recent_cursors) > self.window // 10:
                self.seen_cursors.discard(self._recent_cursors.popleft())
        self.empty_pages = 0 if self._fresh_in_last_page else self.empty_pages + 1
        if self.empty_pages >= _MAX_EMPTY_PAGES:
            raise PaginationError(
                f"{self.provider} returned {_MAX_EMPTY_PAGES} pages in a row with nothing new; "
                "its cursor does not advance",
                provider=self.provider,
            )

    def _ids(self, items: Sequence[T]) -> list[str]:
        if self.id_of is _message_id:
            ids: list[Any] = list(map(_get_id, items))
            if None not in ids:
                return ids
        return list(map(self.id_of, items))

    def _accept_all(self, items: Sequence[T]) -> list[T]:
        seen = self.seen_ids
        ids = self._ids(items)
        new = set(ids)
        if len(new) == len(ids) and seen.isdisjoint(new):  # the usual page: all new, no repeats
            seen |= new
            return list(items)
        fresh = []
        for item, key in zip(items, ids, strict=True):
            if key not in seen:
                seen.add(key)
                fresh.append(item)
        return fresh

    def _accept_windowed(self, items: Sequence[T], order_key: Callable[[T], Any]) -> list[T]:
        if not items:
            return []
        seen, ids = self.seen_ids, self._ids(items)
        new = set(ids)
        if len(new) == len(ids) and seen.isdisjoint(new):
            # All new: take the page at once if no item could repeat a forgotten one, even
            # counting those this page makes the window forget (the per-item rule, page-wide).
            orders = list(map(_get_sent_at, items)) if order_key is _message_order else list(map(order_key, items))
            overflow = self._held + len(ids) - self.window
            if overflow <= self._held:
                bound = self._forgotten_min
                if overflow > 0:
                    dropped = self._peek_min(overflow)
                    if bound is None or dropped < bound:
                        bound = dropped
                if bound is None or max(orders) < bound:
                    if overflow > 0:
                        self._forget(overflow)
                        self._forgotten_min = bound
                    seen |= new
                    self._chunks.append([orders, ids, 0])
                    self._held += len(ids)
                    return list(items)
        return self._accept_each(items, ids, order_key)

    def _accept_each(self, items: Sequence[T], ids: list[str], order_key: Callable[[T], Any]) -> list[T]:
        """The per-item rule, for pages with repeats (or that may repeat a forgotten item)."""
        seen = self.seen_ids
        orders: list[Any] = []
        kept: list[str] = []
        self._chunks.append([orders, kept, 0])
        fresh = []
        for item, ident in zip(items, ids, strict=True):
            if ident in seen:
                continue
            order = order_key(item)
            forgotten = self._forgotten_min
            if forgotten is not None and not order < forgotten:
                raise PaginationError(
                    f"{self.provider} returned a message ({ident!r}) not older than messages read more than "
                    f"{self.window} messages ago; it may be a repeat, so the listing stops here instead "
                    "of risking a duplicate",
                    provider=self.provider,
                )
            seen.add(ident)
            orders.append(order)
            kept.append(ident)
            self._held += 1
            fresh.append(item)
            if self._held > self.window:
                old_order = self._peek_min(1)
                self._forget(1)
                if forgotten is None or old_order < forgotten:
                    self._forgotten_min = old_order
        return fresh

    def _peek_min(self, count: int) -> Any:
        """The smallest order key among the ``count`` oldest remembered ids."""
        low: Any = None
        for orders, ids, start in self._chunks:
            take = min(count, len(ids) - start)
            if take > 0:
                part = min(orders[start : start + take])
                if low is None or part < low:
                    low = part
                count -= take
                if not count:
                    break
        return low

    def _forget(self, count: int) -> None:
        """Forget the ``count`` oldest remembered ids."""
        chunks, seen = self._chunks, self.seen_ids
        self._held -= count
        while count:
            chunk = chunks[0]
            _, ids, start = chunk
            take = min(count, len(ids) - start)
            if take == len(ids) - start and len(chunks) > 1:
                seen.difference_update(ids[start:] if start else ids)
                chunks.popleft()
            else:
                seen.difference_update(ids[start : start + take])
                chunk[2] = start + take
            count -= take


def _message_id(message: Message) -> str:
    if message.id is not None:
        return message.id
    # A vendor that names no id: the same text from the same sender at the same ms is the same message.
    return f"{message.sent_at.isoformat()}|{message.sender.id}|{message.text}"


def _message_order(message: Message) -> datetime:
    return message.sent_at


_get_id = operator.attrgetter("id")
_get_sent_at = operator.attrgetter("sent_at")


def _matches_keywords(conversation: Conversation, keywords: str) -> bool:
    needle = keywords.casefold()
    haystack = [p.name or "" for p in conversation.participants]
    if conversation.latest_message is not None:
        haystack.append(conversation.latest_message.text)
        haystack.append(conversation.latest_message.subject or "")
    return any(needle in text.casefold() for text in haystack)


class _ClientCore:
    provider: Provider
    _settings_overrides: dict[str, Any]

    def __init__(
        self,
        provider: str | None = None,
        *,
        profile: str | None = None,
        config_path: str | os.PathLike[str] | None = None,
        http_transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        **settings: Any,
    ) -> None:
        resolved = resolve(provider, profile, config_path)
        self._resolved: ResolvedConfig = resolved
        cls = get_provider_class(resolved.provider)
        self.provider = cls(build_settings(cls.settings_class, resolved, settings))
        self._http_transport = http_transport
        self.credits_used: float = 0.0
        self._options: dict[str, Any] = {}
        self._owns_pool = True

    def with_options(self: C, **options: Any) -> C:
        """A client for the same account whose calls use other transport settings.

        Accepts ``max_retries``, ``timeout``, ``connect_timeout``, ``deadline``,
        ``backoff``, ``max_backoff`` and ``max_retry_wait`` (see
        :class:`linkmsg.provider.HTTPSettings`). The new client shares this
        one's connection pool, concurrency bound and rate limit; closing it does
        not close the pool (close the original)::

            client.with_options(max_retries=0, deadline=5).list_conversations()
        """
        unknown = set(options) - _CALL_OPTIONS
        if unknown:
            raise InvalidArgument(
                f"with_options does not take {sorted(unknown)[0]!r}; it takes: {', '.join(sorted(_CALL_OPTIONS))}"
            )
        merged = {**self._options, **options}
        if isinstance(self.provider.settings, HTTPSettings):
            try:
                attrs.evolve(self.provider.settings, **merged)
            except (TypeError, ValueError) as exc:
                raise InvalidArgument(f"invalid option for with_options: {exc}") from None
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._options = merged
        clone._owns_pool = False
        clone._reset_transport()
        return clone

    def _reset_transport(self) -> None:
        raise NotImplementedError

    def _http_settings(self) -> HTTPSettings:
        settings = self.provider.settings
        if not isinstance(settings, HTTPSettings):
            raise ResponseShapeError(
                f"provider {self.provider.name!r} made an HTTP request but has no HTTP settings",
                provider=self.provider.name,
            )
        return attrs.evolve(settings, **self._options) if self._options else settings

    # -- public read-only facts --------------------------------------------

    @property
    def provider_name(self) -> str:
        return self.provider.name

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.provider.capabilities

    @property
    def is_demo(self) -> bool:
        """True when no configuration chose a provider (the memory demo inbox)."""
        return self._resolved.is_default

    def __repr__(self) -> str:
        return f"<{type(self).__name__} provider={self.provider_name!r} settings={self.provider.settings!r}>"

    # -- argument handling ---------------------------------------------------

    def _require(self, capability: Capability, detail: str = "") -> None:
        if capability not in self.provider.capabilities:
            raise UnsupportedOperation(self.provider.name, capability.value, detail)

    def _target(self, conversation: Conversation | str) -> ConversationTarget:
        if isinstance(conversation, Conversation):
            ref = parse_conversation_id(conversation.id, mailbox_urn=self.provider.mailbox_urn)
            return ConversationTarget(ref, conversation)
        if not isinstance(conversation, str):
            raise InvalidArgument(
                f"conversation must be a Conversation or an id string, got {type(conversation).__name__}"
            )
        return ConversationTarget(parse_conversation_id(conversation, mailbox_urn=self.provider.mailbox_urn))

    def _limit(self, limit: int | None, default: int | None = None) -> int:
        if limit is None:
            return default or self.provider.default_page_size
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidArgument(f"limit must be a positive integer, got {limit!r}")
        return min(limit, self.provider.max_page_size)

    def _conversations_call(
        self,
        limit: int | None,
        unread: bool | None,
        keywords: str | None,
        cursor: str | None,
        options: Mapping[str, Any],
        default_limit: int | None = None,
        position: Any = None,
    ) -> tuple[
        Operation[VendorPage[Conversation]],
        Callable[[VendorPage[Conversation]], Page[Conversation]],
        Callable[[Conversation], bool],
    ]:
        self._require(Capability.LIST_CONVERSATIONS)
        unread = True if unread else None  # only True filters; False means "any"
        if unread:
            self._require(Capability.FILTER_UNREAD)
        if keywords is not None and not isinstance(keywords, str):
            raise InvalidArgument("keywords must be a string")
        keywords = keywords or None
        if keywords:
            self._require(Capability.FILTER_KEYWORDS)
        unknown = set(options) - self.provider.conversation_options
        if unknown:
            raise InvalidArgument(
                f"{self.provider.name} does not take the option {sorted(unknown)[0]!r}; "
                f"it takes: {', '.join(sorted(self.provider.conversation_options)) or 'none'}"
            )
        filters = {"unread": unread, "keywords": keywords, **options}
        if cursor is not None:
            position = self._decode(cursor, "conversations", filters)
        emulate = bool(keywords) and Capability.FILTER_KEYWORDS in self.provider.emulated
        op = self.provider.list_conversations(
            limit=self._limit(limit, default_limit),
            unread=unread,
            keywords=None if emulate else keywords,
            position=position,
            options=dict(options),
        )

        def keep(conversation: Conversation) -> bool:
            return not emulate or _matches_keywords(conversation, keywords or "")

        return op, lambda vendor: self._page(vendor, vendor.items, "conversations", filters), keep

    def _messages_call(
        self,
        conversation: Conversation | str,
        limit: int | None,
        cursor: str | None,
        default_limit: int | None = None,
        position: Any = None,
    ) -> tuple[Operation[VendorPage[Message]], Callable[[VendorPage[Message]], Page[Message]]]:
        self._require(Capability.READ_HISTORY)
        target = self._target(conversation)
        filters = {"conversation": target.ref.thread_id}
        if cursor is not None:
            position = self._decode(cursor, "messages", filters)
        op = self.provider.list_messages(target, limit=self._limit(limit, default_limit), position=position)
        return op, lambda vendor: self._page(vendor, vendor.items, "messages", filters)

    def _send_request(
        self,
        text: str,
        to: Participant | str | None,
        conversation: Conversation | str | None,
        typing: bool,
        subject: str | None,
        inmail: bool,
        media_url: str | None,
    ) -> SendRequest:
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgument("text must be a non-empty string")
        if to is None and conversation is None:
            raise InvalidArgument("send_message needs to= (a profile) or conversation= (a thread)")
        profile = None
        if to is not None:
            self._require(Capability.SEND_TO_PROFILE)
            if isinstance(to, Participant):
                key = to.urn or to.profile_url or to.public_id
                if not key:
                    raise InvalidArgument("that Participant has no URN, profile URL or public id to send to")
                profile = parse_profile(key)
            elif isinstance(to, str):
                profile = parse_profile(to)
            else:
                raise InvalidArgument(f"to must be a Participant or a profile id/URN/URL, got {type(to).__name__}")
        target = None
        if conversation is not None:
            if to is None:
                self._require(Capability.REPLY_IN_CONVERSATION)
            target = self._target(conversation)
        if inmail:
            self._require(Capability.INMAIL)
        if media_url is not None:
            self._require(Capability.MEDIA)
        return SendRequest(
            text=text,
            to=profile,
            conversation=target,
            typing=bool(typing) and Capability.TYPING in self.provider.capabilities,
            subject=subject,
            inmail=inmail,
            media_url=media_url,
        )

    def _decode(self, cursor: str | None, listing: str, filters: Mapping[str, Any]) -> Any:
        if cursor is None:
            return None
        return _cursor.decode(cursor, provider=self.provider.name, listing=listing, filters=filters)

    def _page(self, vendor: VendorPage[T], items: Any, listing: str, filters: Mapping[str, Any]) -> Page[T]:
        nxt = None
        if vendor.next_position is not None:
            nxt = _cursor.encode(self.provider.name, listing, filters, vendor.next_position)
        if vendor.credits_used:
            self.credits_used += vendor.credits_used
        return Page(tuple(items), nxt, nxt is not None, vendor.total, vendor.credits_used)

    def _walk(self, vendor: VendorPage[T]) -> tuple[Page[T], str | None]:
        """For an iterator: the page, and the key of the next position (None at the end).

        The iterator shows no cursor, so it follows the position's key
        (:func:`linkmsg.cursor.position_key`: equal exactly when the cursors
        would be) instead of encoding and decoding a cursor per page.
        """
        key = None if vendor.next_position is None else _cursor.position_key(vendor.next_position)
        if vendor.credits_used:
            self.credits_used += vendor.credits_used
        return Page(tuple(vendor.items), None, key is not None, vendor.total, vendor.credits_used), key

    def _charge_failure(self, error: LinkmsgError, request: Request | None) -> None:
        """Count the credits a failed operation had spent (see ``LinkmsgError.credits_used``)."""
        if error.credits_used is None and request is not None and request.spent:
            error.credits_used = request.spent
        if error.credits_used:
            self.credits_used += error.credits_used

    def _sent(self, result: SendResult) -> SendResult:
        if result.credits_used:
            self.credits_used += result.credits_used
        return result

    def _enrich_unknown(self, exc: SendOutcomeUnknown, request: SendRequest) -> SendOutcomeUnknown:
        exc.text = request.text
        exc.to = request.to.key if request.to else None
        if request.conversation is not None:
            exc.conversation_id = request.conversation.ref.urn or request.conversation.ref.thread_id
        return exc

    def _ex(self, name: str) -> Callable[..., Operation[Any]]:
        if not name.startswith("ex_"):
            raise AttributeError(name)
        method = getattr(self.provider, name, None)
        if method is None:
            raise UnsupportedOperation(self.provider.name, name)
        return method  # type: ignore[no-any-return]


def _normalise_text(text: str) -> str:
    # Vendors may trim, or turn "\r\n" into "\n": compare the words, not the bytes.
    return " ".join(text.split())


def _same_person(participant: Participant, ref: ProfileRef) -> bool:
    if ref.urn is not None and participant.urn == ref.urn:
        return True
    if ref.public_id is not None and (participant.public_id or "").lower() == ref.public_id.lower():
        return True
    ids = {i for i in (ref.profile_id, ref.urn.rpartition(":")[2] if ref.urn else None) if i}
    url = (participant.profile_url or "").rstrip("/")
    urn = participant.urn or ""
    return any(urn.endswith(":" + i) or url.endswith("/" + i) for i in ids)


class _Reconciler:
    """What :meth:`Client.reconcile_send` looks for; shared by both clients."""

    def __init__(self, error: SendOutcomeUnknown) -> None:
        if not isinstance(error, SendOutcomeUnknown):
            raise InvalidArgument("reconcile_send takes the SendOutcomeUnknown a send raised")
        if error.conversation_id is None and error.to is None:
            raise InvalidArgument(
                "this SendOutcomeUnknown names neither a conversation nor a recipient; "
                "set error.conversation_id and call reconcile_send again"
            )
        started = error.attempted_at if isinstance(error.attempted_at, datetime) else datetime.now(UTC)
        self.since = started - timedelta(minutes=2)  # vendor clocks drift
        self.text = _normalise_text(error.text)
        self.recipient = parse_profile(error.to) if error.conversation_id is None and error.to else None

    def landed(self, message: Message) -> bool:
        return (
            message.outgoing is not False
            and message.sent_at >= self.since
            and _normalise_text(message.text) == self.text
        )

    def too_old(self, when: datetime | None) -> bool:
        return when is not None and when < self.since

    def is_thread(self, conversation: Conversation) -> bool:
        """The recipient's one-to-one conversation (the mailbox owner aside)."""
        assert self.recipient is not None
        others = [p for p in conversation.participants if not p.is_self]
        return len(others) == 1 and _same_person(others[0], self.recipient)


def _wrap_op_error(provider: str, exc: Exception) -> LinkmsgError:
    if isinstance(exc, InvalidIdentifier):
        return exc
    return ResponseShapeError(
        f"{provider} returned a response linkmsg could not read ({type(exc).__name__}: {exc})",
        provider=provider,
    )


class Client(_ClientCore):
    """The synchronous client. See the README for a tour."""

    def __init__(
        self,
        provider: str | None = None,
        *,
        profile: str | None = None,
        config_path: str | os.PathLike[str] | None = None,
        http_transport: httpx.BaseTransport | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(provider, profile=profile, config_path=config_path, http_transport=http_transport, **settings)
        self._pool = _SyncPool(http_transport)
        self._transport: SyncTransport | None = None

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, profile: str | None = None) -> Client:
        return cls(profile=profile, config_path=path)

    # -- lifecycle -----------------------------------------------------------

    def _reset_transport(self) -> None:
        self._transport = None

    def _get_transport(self) -> SyncTransport:
        http = self._pool.get()
        if self._transport is None or self._transport.client is not http:
            self._transport = SyncTransport(self.provider, self._http_settings(), http)
        return self._transport

    def close(self) -> None:
        """Close the connection pool (a ``with_options`` copy leaves its parent's pool open)."""
        self._transport = None
        if self._owns_pool:
            self._pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- driver ----------------------------------------------------------------

    def _run(self, op: Operation[R]) -> R:
        request: Request | None = None
        try:
            request = next(op)
            while True:
                response: Response = self._get_transport().send(request)
                request = op.send(response)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except LinkmsgError as exc:
            self._charge_failure(exc, request)
            raise
        except Exception as exc:
            error = _wrap_op_error(self.provider.name, exc)
            self._charge_failure(error, request)
            raise error from exc
        finally:
            op.close()

    # -- operations -------------------------------------------------------------

    def list_conversations(
        self,
        limit: int | None = None,
        unread: bool | None = None,
        keywords: str | None = None,
        cursor: str | None = None,
        **options: Any,
    ) -> Page[Conversation]:
        """One page of conversations, most recent activity first."""
        op, finish, keep = self._conversations_call(limit, unread, keywords, cursor, options)
        page = finish(self._run(op))
        return attrs.evolve(page, items=tuple(filter(keep, page.items)))

    def iter_conversations(
        self, unread: bool | None = None, keywords: str | None = None, *, page_size: int | None = None, **options: Any
    ) -> Iterator[Conversation]:
        """Every conversation, following cursors; each yielded once."""
        pager: Pager[Conversation] = Pager(self.provider.name, lambda c: c.id)
        position = None
        while True:
            op, _, keep = self._conversations_call(
                page_size, unread, keywords, None, options, self.provider.max_page_size, position
            )
            page, key = self._walk(self._run(op))
            yield from filter(keep, pager.accept(page))
            if key is None:
                return
            pager._advance(key)
            position = _cursor.position_from_key(key)

    def list_messages(
        self, conversation: Conversation | str, limit: int | None = None, cursor: str | None = None
    ) -> Page[Message]:
        """One page of a conversation's messages, newest first."""
        op, finish = self._messages_call(conversation, limit, cursor)
        return finish(self._run(op))

    def iter_messages(self, conversation: Conversation | str, *, page_size: int | None = None) -> Iterator[Message]:
        """A conversation's whole history, newest first; each message once."""
        pager: Pager[Message] = Pager(self.provider.name, _message_id, _message_order)
        position = None
        while True:
            op, _ = self._messages_call(conversation, page_size, None, self.provider.max_page_size, position)
            page, key = self._walk(self._run(op))
            yield from pager.accept(page)
            if key is None:
                return
            pager._advance(key)
            position = _cursor.position_from_key(key)

    def send_message(
        self,
        text: str,
        to: Participant | str | None = None,
        conversation: Conversation | str | None = None,
        typing: bool = True,
        *,
        subject: str | None = None,
        inmail: bool = False,
        media_url: str | None = None,
    ) -> SendResult:
        """Send ``text`` to a profile or into a conversation. Never retried once it may have left."""
        request = self._send_request(text, to, conversation, typing, subject, inmail, media_url)
        try:
            return self._sent(self._run(self.provider.send_message(request)))
        except SendOutcomeUnknown as exc:
            raise self._enrich_unknown(exc, request) from None

    def send_typing(self, conversation: Conversation | str) -> None:
        self._require(Capability.TYPING)
        self._run(self.provider.send_typing(self._target(conversation)))

    def mark_read(self, conversation: Conversation | str) -> None:
        self._require(Capability.MARK_READ)
        self._run(self.provider.mark_read(self._target(conversation)))

    def reconcile_send(
        self, error: SendOutcomeUnknown, *, max_messages: int = 50, max_conversations: int = 20
    ) -> Message | None:
        """After :class:`SendOutcomeUnknown`: the message if it landed, else None.

        Reads the conversation the send went to and looks among its
        ``max_messages`` newest messages for an outgoing one with the same text
        (whitespace-insensitive) sent since the attempt, less two minutes for
        vendor clock drift. A send addressed only to a profile is looked for in
        that person's one-to-one conversation, found among the
        ``max_conversations`` most recently active ones. Reads are retried as
        usual; call it again a little later if the vendor is slow to index sends::

            try:
                client.send_message("Hi!", to=profile)
            except linkmsg.SendOutcomeUnknown as error:
                if client.reconcile_send(error) is None:
                    client.send_message("Hi!", to=profile)  # it provably did not land
        """
        look = _Reconciler(error)
        conversation_id = error.conversation_id
        if conversation_id is None:
            for n, conversation in enumerate(self.iter_conversations()):
                if n >= max_conversations or look.too_old(conversation.last_activity_at):
                    return None
                if look.is_thread(conversation):
                    if conversation.latest_message is not None and look.landed(conversation.latest_message):
                        return conversation.latest_message
                    conversation_id = conversation.id
                    break
            else:
                return None
        for n, message in enumerate(self.iter_messages(conversation_id)):
            if look.landed(message):
                return message
            if n + 1 >= max_messages or look.too_old(message.sent_at):
                return None
        return None

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = self._ex(name)
        return lambda *args, **kwargs: self._run(method(*args, **kwargs))


class AsyncClient(_ClientCore):
    """The asyncio client: the same methods as :class:`Client`, awaitable."""

    def __init__(
        self,
        provider: str | None = None,
        *,
        profile: str | None = None,
        config_path: str | os.PathLike[str] | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(provider, profile=profile, config_path=config_path, http_transport=http_transport, **settings)
        self._pool = _AsyncPool(http_transport)
        self._transport: AsyncTransport | None = None

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, profile: str | None = None) -> AsyncClient:
        return cls(profile=profile, config_path=path)

    def _reset_transport(self) -> None:
        self._transport = None

    def _get_transport(self) -> AsyncTransport:
        settings = self._http_settings()
        http, semaphore = self._pool.get(settings)
        if self._transport is None or self._transport.client is not http:
            self._transport = AsyncTransport(self.provider, settings, http, semaphore, self._pool.direct)
        return self._transport

    async def aclose(self) -> None:
        """Close the connection pool (a ``with_options`` copy leaves its parent's pool open)."""
        self._transport = None
        if self._owns_pool:
            await self._pool.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _run(self, op: Operation[R]) -> R:
        # An HTTP operation queues for its first concurrency slot before it builds a request:
        # when many wait (gather() over hundreds of conversations), their request-building
        # would otherwise run ahead of the requests that already hold a slot, and delay them.
        transport = None
        slot = False
        if isinstance(self.provider.settings, HTTPSettings):
            transport = self._get_transport()
            await transport.semaphore.acquire()
            slot = True
        request: Request | None = None
        try:
            request = next(op)
            while True:
                if transport is None:
                    transport = self._get_transport()  # a provider without HTTP settings: explains itself
                handed, slot = slot, False  # send() releases a slot it is handed, whatever happens
                response: Response = await transport.send(request, slot_held=handed)
                request = op.send(response)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except LinkmsgError as exc:
            self._charge_failure(exc, request)
            raise
        except Exception as exc:
            error = _wrap_op_error(self.provider.name, exc)
            self._charge_failure(error, request)
            raise error from exc
        finally:
            if slot and transport is not None:
                transport.semaphore.release()
            op.close()

    async def list_conversations(
        self,
        limit: int | None = None,
        unread: bool | None = None,
        keywords: str | None = None,
        cursor: str | None = None,
        **options: Any,
    ) -> Page[Conversation]:
        op, finish, keep = self._conversations_call(limit, unread, keywords, cursor, options)
        page = finish(await self._run(op))
        return attrs.evolve(page, items=tuple(filter(keep, page.items)))

    async def iter_conversations(
        self, unread: bool | None = None, keywords: str | None = None, *, page_size: int | None = None, **options: Any
    ) -> AsyncIterator[Conversation]:
        pager: Pager[Conversation] = Pager(self.provider.name, lambda c: c.id)
        position = None
        while True:
            op, _, keep = self._conversations_call(
                page_size, unread, keywords, None, options, self.provider.max_page_size, position
            )
            page, key = self._walk(await self._run(op))
            for item in filter(keep, pager.accept(page)):
                yield item
            if key is None:
                return
            pager._advance(key)
            position = _cursor.position_from_key(key)

    async def list_messages(
        self, conversation: Conversation | str, limit: int | None = None, cursor: str | None = None
    ) -> Page[Message]:
        op, finish = self._messages_call(conversation, limit, cursor)
        return finish(await self._run(op))

    async def iter_messages(
        self, conversation: Conversation | str, *, page_size: int | None = None
    ) -> AsyncIterator[Message]:
        pager: Pager[Message] = Pager(self.provider.name, _message_id, _message_order)
        position = None
        while True:
            op, _ = self._messages_call(conversation, page_size, None, self.provider.max_page_size, position)
            page, key = self._walk(await self._run(op))
            for item in pager.accept(page):
                yield item
            if key is None:
                return
            pager._advance(key)
            position = _cursor.position_from_key(key)

    async def send_message(
        self,
        text: str,
        to: Participant | str | None = None,
        conversation: Conversation | str | None = None,
        typing: bool = True,
        *,
        subject: str | None = None,
        inmail: bool = False,
        media_url: str | None = None,
    ) -> SendResult:
        request = self._send_request(text, to, conversation, typing, subject, inmail, media_url)
        try:
            return self._sent(await self._run(self.provider.send_message(request)))
        except SendOutcomeUnknown as exc:
            raise self._enrich_unknown(exc, request) from None

    async def send_typing(self, conversation: Conversation | str) -> None:
        self._require(Capability.TYPING)
        await self._run(self.provider.send_typing(self._target(conversation)))

    async def mark_read(self, conversation: Conversation | str) -> None:
        self._require(Capability.MARK_READ)
        await self._run(self.provider.mark_read(self._target(conversation)))

    async def reconcile_send(
        self, error: SendOutcomeUnknown, *, max_messages: int = 50, max_conversations: int = 20
    ) -> Message | None:
        """See :meth:`Client.reconcile_send`."""
        look = _Reconciler(error)
        conversation_id = error.conversation_id
        if conversation_id is None:
            n = 0
            async for conversation in self.iter_conversations():
                if n >= max_conversations or look.too_old(conversation.last_activity_at):
                    return None
                n += 1
                if look.is_thread(conversation):
                    if conversation.latest_message is not None and look.landed(conversation.latest_message):
                        return conversation.latest_message
                    conversation_id = conversation.id
                    break
            if conversation_id is None:
                return None
        n = 0
        async for message in self.iter_messages(conversation_id):
            if look.landed(message):
                return message
            n += 1
            if n >= max_messages or look.too_old(message.sent_at):
                return None
        return None

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = self._ex(name)
        return lambda *args, **kwargs: self._run(method(*args, **kwargs))
