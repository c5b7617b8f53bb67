"""Paging helpers shared by providers whose message cursor is a timestamp.

Vendors that page history by "messages older than this millisecond" lose or
repeat messages that share the boundary millisecond. :class:`TimeAnchor`
fixes this once: the position keeps the boundary millisecond *and* the ids
already returned at it; the next request asks from one millisecond later
(inclusive of the boundary whether the vendor compares with < or <=), and
:meth:`TimeAnchor.filter` drops what was already returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

from linkmsg.errors import InvalidCursor

__all__ = ["TimeAnchor"]

T = TypeVar("T")


@attrs.frozen(slots=True)
class TimeAnchor:
    ms: int
    seen: frozenset[str] = frozenset()

    @property
    def request_cursor(self) -> int:
        """The vendor cursor to send: one ms past the boundary, so nothing at it is skipped."""
        return self.ms + 1

    def filter(self, items: Sequence[T], ms_of: Callable[[T], int], id_of: Callable[[T], str]) -> list[T]:
        """Items strictly older than the boundary, plus boundary items not yet returned."""
        return self.filter_stamped(items, list(map(ms_of, items)), id_of)  # each item's ms read once

    def filter_stamped(self, items: Sequence[T], stamps: Sequence[int], id_of: Callable[[T], str]) -> list[T]:
        """:meth:`filter` for items whose ms are at hand already: ``stamps[i]`` is ``items[i]``'s."""
        _same_length(items, stamps)
        bound, seen = self.ms, self.seen
        if not stamps or max(stamps) < bound:  # the usual page: all older than the boundary
            return list(items)
        return [
            item
            for item, ms in zip(items, stamps, strict=True)
            if ms < bound or (ms == bound and id_of(item) not in seen)
        ]

    @classmethod
    def after(
        cls,
        items: Sequence[T],
        ms_of: Callable[[T], int],
        id_of: Callable[[T], str],
        previous: TimeAnchor | None = None,
    ) -> TimeAnchor | None:
        """The anchor for the page after ``items`` (None when ``items`` is empty)."""
        return cls.after_stamped(items, list(map(ms_of, items)), id_of, previous)  # each item's ms read once

    @classmethod
    def after_stamped(
        cls,
        items: Sequence[T],
        stamps: Sequence[int],
        id_of: Callable[[T], str],
        previous: TimeAnchor | None = None,
    ) -> TimeAnchor | None:
        """:meth:`after` for items whose ms are at hand already: ``stamps[i]`` is ``items[i]``'s."""
        _same_length(items, stamps)
        if not items:
            return None
        oldest = min(stamps)
        if stamps.count(oldest) == 1:  # the usual page: one message at the boundary
            seen = {id_of(items[stamps.index(oldest)])}
        else:
            seen = {id_of(item) for item, ms in zip(items, stamps, strict=True) if ms == oldest}
        if previous is not None and previous.ms == oldest:
            seen |= previous.seen
        return cls(oldest, frozenset(seen))

    def to_position(self) -> dict[str, Any]:
        return {"ms": self.ms, "seen": sorted(self.seen)}

    @classmethod
    def from_position(cls, position: Any) -> TimeAnchor:
        if isinstance(position, int) and not isinstance(position, bool):
            return cls(position)
        if isinstance(position, dict):
            ms, seen = position.get("ms"), position.get("seen", [])
            if isinstance(ms, int) and isinstance(seen, list) and all(isinstance(s, str) for s in seen):
                return cls(ms, frozenset(seen))
        raise InvalidCursor("cursor does not hold a message timestamp position")


def _same_length(items: Sequence[Any], stamps: Sequence[int]) -> None:
    if len(items) != len(stamps):
        raise ValueError(f"{len(items)} items but {len(stamps)} stamps: each item needs its ms")
