"""parse_timestamp's fast path for canonical ISO strings agrees with the general path.

The fast path (layout checks plus ``datetime.fromisoformat``) must return
exactly what the general, regex-checked path returns, and must raise the same
error wherever the general path raises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from linkmsg.errors import ResponseShapeError
from linkmsg.timestamps import _parse_text_general, parse_timestamp


def _outcome(parse: Callable[[str], datetime], value: str) -> tuple[str, object]:
    try:
        return "ok", parse(value)
    except ResponseShapeError as exc:
        return "error", (str(exc), exc.path)


def _same(value: str) -> None:
    fast = _outcome(lambda v: parse_timestamp(v, path="x"), value)
    general = _outcome(lambda v: _parse_text_general(v, "x"), value)
    assert fast == general, value
    if isinstance(fast[1], datetime):
        assert fast[1].tzinfo is UTC


_char = st.sampled_from("0123456789-T:.Z+zt ,٣²\u00a0")


_ZONES = ["", "Z", "z", "+00:00", "-00:00", "+02:00", "-05:30", "+0200", "+02", "+23:59", "+24:00"]


@st.composite
def _near_canonical(draw: st.DrawFn) -> str:
    """Canonical ISO strings, then with a few characters changed, dropped or added."""
    dt = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    text = dt.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0")
    fraction = draw(st.sampled_from(["", ".", ".1", ".123", ".123456", ".1234567891"]))
    zone = draw(
        st.sampled_from(["", "Z", "z", "+00:00", "-00:00", "+02:00", "-05:30", "+0200", "+02", "+23:59", "+24:00"])
    )
    value = list(text + fraction + zone)
    for _ in range(draw(st.integers(0, 2))):
        where = draw(st.integers(0, len(value)))
        action = draw(st.sampled_from(["replace", "drop", "insert"]))
        if action == "insert" or where == len(value):
            value.insert(where, draw(_char))
        elif action == "drop":
            del value[where]
        else:
            value[where] = draw(_char)
    return "".join(value)


@given(_near_canonical())
@example("2026-03-24T12:00:00Z")
@example("1970-01-01T00:00:00Z")
@example("1970-01-01T00:00:00.000001Z")
@example("1970-01-01T01:00:00+01:00")
@example("0001-01-01T00:30:00+02:00")
@example("9999-12-31T23:59:59-02:00")
@example("9999-12-31T23:59:59.9999999")
@example("2026-03-24T10:15:3Z")
@example("2026-03-24T10:15:30.Z")
@example("2026-03-24T10:15:30 ")
@example("2026-03-24T10:15:30+02:00:00")
@example("2026-03-24T10:15:30+0٣:00")
def test_fast_path_agrees_with_general_path(value: str) -> None:
    _same(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-24T12:00:00Z", datetime(2026, 3, 24, 12, tzinfo=UTC)),
        ("2026-03-24T12:00:00.5Z", datetime(2026, 3, 24, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2026-03-24T14:00:00+02:00", datetime(2026, 3, 24, 12, tzinfo=UTC)),
        ("2026-03-24T12:00:00+00:00", datetime(2026, 3, 24, 12, tzinfo=UTC)),
        ("2026-03-24T12:00:00.123456789", datetime(2026, 3, 24, 12, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_canonical_forms(value: str, expected: datetime) -> None:
    result = parse_timestamp(value)
    assert result == expected
    assert result.tzinfo is UTC
