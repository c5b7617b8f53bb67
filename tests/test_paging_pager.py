"""Pager takes whole pages at once; it must decide exactly as the per-item rule in its docstring.

The reference below is that rule written one item at a time (the implementation
before the page-at-once path); every page sequence must give the same items,
the same errors and the same remembered ids.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkmsg.client import Pager, _message_id, _message_order
from linkmsg.errors import PaginationError
from linkmsg.model import Message, Page, Participant


class ReferencePager:
    """The dedup rule, one item at a time."""

    def __init__(self, id_of: Callable[[Any], str], order_key: Callable[[Any], Any] | None, window: int) -> None:
        self.id_of, self.order_key, self.window = id_of, order_key, window
        self.seen: set[str] = set()
        self.recent: collections.deque[tuple[Any, str]] = collections.deque()
        self.forgotten_min: Any = None

    def accept(self, items: Sequence[Any]) -> list[Any]:
        fresh = []
        for item in items:
            ident = self.id_of(item)
            if ident in self.seen:
                continue
            if self.order_key is None:
                self.seen.add(ident)
                fresh.append(item)
                continue
            order = self.order_key(item)
            forgotten = self.forgotten_min
            if forgotten is not None and not order < forgotten:
                raise PaginationError("repeat older than the window", provider="p")
            self.seen.add(ident)
            self.recent.append((order, ident))
            fresh.append(item)
            if len(self.recent) > self.window:
                old_order, old_ident = self.recent.popleft()
                self.seen.discard(old_ident)
                if forgotten is None or old_order < forgotten:
                    self.forgotten_min = old_order
        return fresh


BASE = datetime(2025, 1, 1, tzinfo=UTC)
ALICE = Participant(id="alice", name="Alice")


def _message(n: int, ms: int, with_id: bool) -> Message:
    return Message(
        id=f"m{n}" if with_id else None,
        conversation_id="c",
        sender=ALICE,
        sent_at=BASE - timedelta(milliseconds=ms),
        text=f"text {n % 7}",
    )


# A page is a list of (message number, age in ms); numbers repeat to make duplicates,
# ages mostly grow with the number (newest first) but not always.
_item = st.tuples(st.integers(0, 40), st.integers(-3, 3))
_pages = st.lists(st.lists(_item, max_size=12), max_size=12)


def _run(pager: Any, pages: list[list[Message]], accept: Callable[[Any, list[Message]], list[Any]]) -> list[Any]:
    out: list[Any] = []
    for page in pages:
        try:
            out.append([m.id or m.text for m in accept(pager, page)])
        except PaginationError:
            out.append("PaginationError")
            break
    return out


@settings(max_examples=400, deadline=None)
@given(pages=_pages, window=st.integers(0, 15), with_ids=st.booleans(), windowed=st.booleans())
def test_pager_decides_like_the_per_item_rule(
    pages: list[list[tuple[int, int]]], window: int, with_ids: bool, windowed: bool
) -> None:
    built = [[_message(n, n * 2 + jitter, with_ids or n % 3 != 0) for n, jitter in page] for page in pages]
    order_key = _message_order if windowed else None
    reference = ReferencePager(_message_id, order_key, window)
    pager: Pager[Message] = Pager("p", _message_id, order_key, window=window)
    expected = _run(reference, built, lambda p, items: p.accept(items))
    got = _run(pager, built, lambda p, items: p.accept(Page(tuple(items))))
    assert got == expected
    if expected[-1:] != ["PaginationError"]:
        assert pager.seen_ids == reference.seen
        assert pager._forgotten_min == reference.forgotten_min


@settings(max_examples=200, deadline=None)
@given(pages=st.lists(st.lists(st.integers(0, 60), max_size=10), max_size=10), window=st.integers(0, 12))
def test_pager_with_any_id_and_order_functions(pages: list[list[int]], window: int) -> None:
    def id_of(n: int) -> str:
        return str(n)

    def order_of(n: int) -> int:
        return -n

    reference = ReferencePager(id_of, order_of, window)
    pager: Pager[int] = Pager("p", id_of, order_of, window=window)
    expected = _run_plain(reference, pages, lambda p, items: p.accept(items))
    got = _run_plain(pager, pages, lambda p, items: p.accept(Page(tuple(items))))
    assert got == expected


def _run_plain(pager: Any, pages: list[list[int]], accept: Callable[[Any, list[int]], list[int]]) -> list[Any]:
    out: list[Any] = []
    for page in pages:
        try:
            out.append(accept(pager, page))
        except PaginationError:
            out.append("PaginationError")
            break
    return out


def test_a_long_history_is_streamed_in_constant_memory() -> None:
    pager: Pager[Message] = Pager("p", _message_id, _message_order, window=250)
    total = 0
    for start in range(0, 5000, 100):
        page = Page(tuple(_message(n, n, True) for n in range(start, start + 100)))
        total += len(pager.accept(page))
        assert len(pager.seen_ids) <= 250
        assert sum(len(ids) - first for _, ids, first in pager._chunks) == len(pager.seen_ids)
    assert total == 5000


def test_a_repeat_older_than_the_window_stops_the_listing() -> None:
    pager: Pager[Message] = Pager("p", _message_id, _message_order, window=150)
    pager.accept(Page(tuple(_message(n, n, True) for n in range(100))))
    pager.accept(Page(tuple(_message(n, n, True) for n in range(100, 200))))
    with pytest.raises(PaginationError):
        pager.accept(Page((_message(10, 10, True),)))  # forgotten: it may be a repeat
