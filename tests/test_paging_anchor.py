"""TimeAnchor.filter/after read each item's ms once; results must match the plain definitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkmsg.paging import TimeAnchor

_items = st.lists(st.tuples(st.integers(0, 6), st.sampled_from("abcdefgh")), max_size=12)
_anchor = st.builds(TimeAnchor, st.integers(0, 6), st.frozensets(st.sampled_from("abcdefgh"), max_size=4))


def _ms(item: tuple[int, str]) -> int:
    return item[0]


def _id(item: tuple[int, str]) -> str:
    return item[1]


@settings(max_examples=300, deadline=None)
@given(items=_items, anchor=_anchor)
def test_filter_keeps_older_items_and_unseen_boundary_items(items: list[tuple[int, str]], anchor: TimeAnchor) -> None:
    expected = [i for i in items if i[0] < anchor.ms or (i[0] == anchor.ms and i[1] not in anchor.seen)]
    assert anchor.filter(items, _ms, _id) == expected


@settings(max_examples=300, deadline=None)
@given(items=_items, previous=st.none() | _anchor)
def test_after_anchors_at_the_oldest_ms_with_every_id_returned_there(
    items: list[tuple[int, str]], previous: TimeAnchor | None
) -> None:
    got = TimeAnchor.after(items, _ms, _id, previous)
    if not items:
        assert got is None
        return
    oldest = min(i[0] for i in items)
    seen = {i[1] for i in items if i[0] == oldest}
    if previous is not None and previous.ms == oldest:
        seen |= previous.seen
    assert got == TimeAnchor(oldest, frozenset(seen))


@settings(max_examples=300, deadline=None)
@given(items=_items, anchor=_anchor, previous=st.none() | _anchor)
def test_stamped_variants_match_the_callable_ones(
    items: list[tuple[int, str]], anchor: TimeAnchor, previous: TimeAnchor | None
) -> None:
    stamps = [i[0] for i in items]
    assert anchor.filter_stamped(items, stamps, _id) == anchor.filter(items, _ms, _id)
    assert TimeAnchor.after_stamped(items, stamps, _id, previous) == TimeAnchor.after(items, _ms, _id, previous)


def test_stamped_variants_refuse_stamps_that_do_not_pair_up_with_items() -> None:
    anchor = TimeAnchor(5)
    with pytest.raises(ValueError, match="2 items but 1 stamps"):
        anchor.filter_stamped([(1, "a"), (2, "b")], [1], _id)
    with pytest.raises(ValueError, match="1 items but 2 stamps"):
        TimeAnchor.after_stamped([(1, "a")], [1, 2], _id)
