"""Vendor timestamps: every documented format to an aware UTC datetime, or a clear error."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkmsg.errors import ResponseShapeError
from linkmsg.timestamps import from_epoch_ms, parse_optional_timestamp, parse_timestamp, to_epoch_ms

# 1777146285823 ms, the next_cursor in one vendor example.
MS = 1777146285823
AT_MS = datetime(2026, 4, 25, 19, 44, 45, 823000, tzinfo=UTC)
NOON = datetime(2026, 3, 24, 12, 0, tzinfo=UTC)


def _utc(value: datetime) -> bool:
    return value.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (MS, AT_MS),
        (1777146285, AT_MS.replace(microsecond=0)),
        (1777146285.5, AT_MS.replace(microsecond=500000)),
        (float(MS), AT_MS),
        (1777146285823.5, AT_MS.replace(microsecond=823500)),
        (Decimal("1777146285.25"), AT_MS.replace(microsecond=250000)),
        (str(MS), AT_MS),
        (" 1777146285823 ", AT_MS),
        ("1777146285", AT_MS.replace(microsecond=0)),
        ("1777146285.5", AT_MS.replace(microsecond=500000)),
        # The smallest millisecond value and the largest second value.
        (100_000_000_000, datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)),
        (99_999_999_999, datetime(5138, 11, 16, 9, 46, 39, tzinfo=UTC)),
        (253402300799999, datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        (1, datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)),
    ],
)
def test_epoch_numbers(value: object, expected: datetime) -> None:
    result = parse_timestamp(value)
    assert result == expected
    assert _utc(result)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-24T12:00:00Z", NOON),
        ("2026-03-24T12:00:00z", NOON),
        ("2026-03-24T14:00:00+02:00", NOON),
        ("2026-03-24T14:00:00+0200", NOON),
        ("2026-03-24T14:00:00+02", NOON),
        ("2026-03-24T07:00:00-05:00", NOON),
        ("2026-03-24T12:00:00.5Z", NOON.replace(microsecond=500000)),
        ("2026-03-24T12:00:00.123Z", NOON.replace(microsecond=123000)),
        ("2026-03-24T12:00:00.123456Z", NOON.replace(microsecond=123456)),
        ("2026-03-24T12:00:00.123456789Z", NOON.replace(microsecond=123456)),
        ("2026-03-24T12:00:00.999999999+00:00", NOON.replace(microsecond=999999)),
        # Naive strings are UTC, as the vendors document.
        ("2025-01-15T10:30:00.000000", datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),
        ("2026-04-28T10:07:45.525693", datetime(2026, 4, 28, 10, 7, 45, 525693, tzinfo=UTC)),
        ("2026-03-24 12:00:00", NOON),
        ("2026-03-24 12:00", NOON),
        ("  2026-03-24T12:00:00Z\n", NOON),
    ],
)
def test_iso_strings(value: str, expected: datetime) -> None:
    result = parse_timestamp(value)
    assert result == expected
    assert _utc(result)


def test_datetime_objects() -> None:
    assert parse_timestamp(datetime(2026, 3, 24, 12)) == NOON
    plus_two = datetime(2026, 3, 24, 14, tzinfo=timezone(timedelta(hours=2)))
    result = parse_timestamp(plus_two)
    assert result == NOON
    assert _utc(result)
    assert result.hour == 12


def test_optional_timestamp() -> None:
    assert parse_optional_timestamp(None) is None
    assert parse_optional_timestamp("") is None
    assert parse_optional_timestamp("  ") is None
    assert parse_optional_timestamp(MS) == AT_MS
    with pytest.raises(ResponseShapeError):
        parse_optional_timestamp("example_value", path="data.last_seen_at")


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -1,
        -MS,
        0.0,
        -1.5,
        "0",
        "-1777146285823",
        math.nan,
        math.inf,
        -math.inf,
        Decimal("NaN"),
        Decimal("Infinity"),
        253402300800000,
        10**30,
        1e300,
        "253402300800000",
        "9" * 5000,
        "",
        "   ",
        "example_value",
        "now",
        "1777146285823ms",
        "1e12",
        "0x1234",
        "2026-03-24",
        date(2026, 3, 24),
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-03-24T25:00:00Z",
        "2026-03-24T12:00:00+25:00",
        "2026-03-24T12:00:00 Z",
        "2026-W13-2T12:00:00",
        "24/03/2026 12:00",
        "0001-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "9999-12-31T23:00:00-05:00",
        "١٧٧٧١٤٦٢٨٥٨٢٣",
        datetime(1960, 1, 1, tzinfo=UTC),
        [],
        {},
        {"ms": MS},
        b"1777146285823",
        object(),
    ],
)
def test_rejections_name_the_field(value: object) -> None:
    with pytest.raises(ResponseShapeError) as info:
        parse_timestamp(value, path="data.messages[3].timestamp")
    assert info.value.path == "data.messages[3].timestamp"
    assert "data.messages[3].timestamp" in str(info.value)


def test_none_is_rejected_where_a_time_is_required() -> None:
    with pytest.raises(ResponseShapeError) as info:
        parse_timestamp(None)
    assert info.value.path == "timestamp"


def test_rejection_message_quotes_the_value() -> None:
    with pytest.raises(ResponseShapeError, match="example_value"):
        parse_timestamp("example_value")
    with pytest.raises(ResponseShapeError, match="date without a time"):
        parse_timestamp("2026-03-24")


def test_long_bad_value_is_truncated_in_the_message() -> None:
    with pytest.raises(ResponseShapeError) as info:
        parse_timestamp("x" * 10_000)
    assert len(str(info.value)) < 300


def test_epoch_ms_round_trip_is_exact() -> None:
    for ms in (MS, 1, 0, -1, 999, 253402300799999, -62135596800000):
        assert to_epoch_ms(from_epoch_ms(ms)) == ms
    assert from_epoch_ms(MS) == AT_MS
    assert _utc(from_epoch_ms(MS))


def test_to_epoch_ms_treats_naive_as_utc_and_converts_aware() -> None:
    assert to_epoch_ms(datetime(2026, 4, 25, 19, 44, 45, 823000)) == MS
    shifted = AT_MS.astimezone(timezone(timedelta(hours=-7)))
    assert to_epoch_ms(shifted) == MS


def test_from_epoch_ms_rejects_non_integers() -> None:
    bad: Any = True
    with pytest.raises(TypeError):
        from_epoch_ms(bad)
    bad = 1.5
    with pytest.raises(TypeError):
        from_epoch_ms(bad)


@given(st.integers(min_value=-62135596800000, max_value=253402300799999))
def test_round_trip_property(ms: int) -> None:
    assert to_epoch_ms(from_epoch_ms(ms)) == ms


@given(st.integers(min_value=100_000_000_000, max_value=253402300799999))
def test_ms_ints_and_strings_agree(ms: int) -> None:
    assert parse_timestamp(ms) == parse_timestamp(str(ms)) == from_epoch_ms(ms)
    assert to_epoch_ms(parse_timestamp(ms)) == ms


@given(st.datetimes(min_value=datetime(1970, 1, 2), timezones=st.one_of(st.none(), st.timezones())))
def test_isoformat_round_trip(dt: datetime) -> None:
    # Aware datetimes near the ends of the range may not exist in UTC.
    try:
        expected = dt.replace(tzinfo=UTC) if dt.utcoffset() is None else dt.astimezone(UTC)
    except OverflowError:
        return
    if expected.year > 9999:
        return
    assert parse_timestamp(dt.isoformat()) == expected
    assert parse_timestamp(dt) == expected


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.from_regex(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?(Z|[+-]\d{2}:?\d{2})?", fullmatch=True)
    | st.from_regex(r"-?\d{1,20}(\.\d{1,10})?", fullmatch=True),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=5,
)


@given(json_values)
def test_any_json_value_gives_utc_or_a_shape_error(value: object) -> None:
    try:
        result = parse_timestamp(value, path="x")
    except ResponseShapeError as error:
        assert error.path == "x"
        return
    assert _utc(result)
    assert result > datetime(1970, 1, 1, tzinfo=UTC)
