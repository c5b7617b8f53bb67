"""Vendor timestamps to aware UTC datetimes.

Vendors send times as epoch milliseconds (most message fields), epoch seconds,
numeric strings, ISO 8601 with ``Z`` or an offset, or naive ISO strings that
they document as UTC. Everything here returns ``datetime`` with
``tzinfo=datetime.UTC``. A value that cannot be read as a date-time raises
:class:`~linkmsg.errors.ResponseShapeError` naming the field: a wrong date
would silently reorder a conversation, an error does not.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from linkmsg.errors import ResponseShapeError

__all__ = ["from_epoch_ms", "parse_optional_timestamp", "parse_timestamp", "to_epoch_ms"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
# Numbers at or above 1e11 are milliseconds (from 1973-03-03), below are
# seconds (up to 5138-11-16): no real message time is ambiguous under this rule.
_MS_THRESHOLD = 100_000_000_000
# 9999-12-31T23:59:59.999Z, the last millisecond datetime can represent.
_MAX_MS = 253_402_300_799_999
_MAX_MS_DECIMAL = Decimal(_MAX_MS + 1)
_MS_THRESHOLD_DECIMAL = Decimal(_MS_THRESHOLD)

_NUMERIC_RE = re.compile(r"[+-]?\d+(?:\.\d+)?", re.ASCII)
# A date and a time are both required: date-only strings are rejected (see
# parse_timestamp). Fractions of any length are truncated to microseconds.
_ISO_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)
_SHOW_LIMIT = 60

_EXPECTED = "expected epoch milliseconds or seconds, or an ISO 8601 date-time"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 1] + "…"


def _error(path: str, value: object, why: str = "") -> ResponseShapeError:
    detail = f" ({why})" if why else ""
    return ResponseShapeError(f"{path}: {_EXPECTED}, got {_show(value)}{detail}", path=path, provider="?")


def from_epoch_ms(ms: int) -> datetime:
    """Epoch milliseconds to an aware UTC datetime, exactly (no float rounding).

    Raises ``TypeError`` for non-integers (including bool) and
    ``OverflowError`` outside datetime's range (years 1-9999).
    """
    if type(ms) is not int:
        if isinstance(ms, bool) or not isinstance(ms, int):
            raise TypeError(f"epoch milliseconds must be an int, got {type(ms).__name__}")
        ms = int(ms)
    seconds, millis = divmod(ms, 1000)
    return _EPOCH + timedelta(0, seconds, millis * 1000)


def to_epoch_ms(dt: datetime) -> int:
    """An aware datetime to epoch milliseconds (floored); a naive one is taken as UTC.

    ``to_epoch_ms(from_epoch_ms(x)) == x`` for every in-range int ``x``.
    """
    if dt.utcoffset() is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // _ONE_MS


def parse_timestamp(value: object, *, path: str = "timestamp") -> datetime:
    """Read a vendor timestamp as an aware UTC datetime.

    Accepted:

    * ``int`` / ``float`` / ``Decimal`` epochs and numeric strings of them
      (``1777146285823``, ``"1777146285.5"``). Magnitude decides the unit:
      ``abs(value) >= 1e11`` is milliseconds, anything smaller is seconds.
      Fractions below a microsecond are truncated for strings and rounded for
      floats.
    * ISO 8601 date-times: ``T`` or space separator, ``Z``, ``+02:00`` or
      ``+0200`` offsets, 1 to 9 (or more) fractional digits truncated to
      microseconds. Naive strings are UTC, as the vendors document.
    * ``datetime`` objects: naive is taken as UTC, aware is converted.

    Rejected with :class:`ResponseShapeError` (``path`` names the field):
    ``None``, ``bool``, empty or non-date strings, NaN and infinities, times at
    or before the epoch (1970-01-01T00:00:00Z: zero or negative epochs, and
    sentinels such as ``0001-01-01``), times after year 9999, and date-only
    values (``"2026-03-24"`` or a ``date``): no vendor sends them for a
    message, and midnight would be an invented time of day.
    """
    # Hot path: epoch ms ints; `type(...) is int` also keeps bool out.
    if type(value) is int:
        if value >= _MS_THRESHOLD:
            if value > _MAX_MS:
                raise _error(path, value, "after year 9999")
            seconds, millis = divmod(value, 1000)
            return _EPOCH + timedelta(0, seconds, millis * 1000)
        if value > 0:
            return _EPOCH + timedelta(0, value)
        raise _error(path, value, "not after 1970-01-01")
    if isinstance(value, str):
        return _parse_text(value, path)
    if isinstance(value, datetime):
        return _checked(value, value, path)
    if isinstance(value, bool):
        raise _error(path, value, "a boolean, not a time")
    if value is None:
        raise _error(path, value, "missing")
    if isinstance(value, int):
        return parse_timestamp(int(value), path=path)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _error(path, value, "not a finite number")
        return _from_decimal(Decimal(value), value, path, ROUND_HALF_EVEN)
    if isinstance(value, Decimal):
        return _from_decimal(value, value, path, ROUND_HALF_EVEN)
    if isinstance(value, date):
        raise _error(path, value, "a date without a time")
    raise _error(path, value)


def parse_optional_timestamp(value: object, *, path: str = "timestamp") -> datetime | None:
    """Like :func:`parse_timestamp`, but ``None`` and empty (or blank) strings give ``None``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_timestamp(value, path=path)


def _parse_text(value: str, path: str) -> datetime:
    # Fast path for the common ``YYYY-MM-DDTHH:MM:SS[.f…](Z|±HH:MM)?`` form: only
    # the layout is checked here (fromisoformat rejects non-digits where digits
    # belong), and every string passing both is one _ISO_RE accepts, so the result
    # is the one the general path below gives; anything else goes there.
    n = len(value)
    if n >= 19 and value[4:17:3] == "--T::":
        zulu = value[-1] == "Z"
        offset = not zulu and n >= 25 and value[n - 3] == ":" and value[n - 6] in "+-"
        n -= 1 if zulu else 6 if offset else 0
        if (n == 19 or (n > 20 and value[19] == "." and value[20:n].isdigit())) and value.isascii():
            try:
                parsed = datetime.fromisoformat(value if zulu or offset else value + "+00:00")
            except ValueError:
                pass  # the general path says why
            else:
                if offset and parsed.tzinfo is not UTC:
                    try:
                        parsed = parsed.astimezone(UTC)
                    except OverflowError:
                        return _checked(parsed, value, path)  # raises, saying why
                if parsed > _EPOCH:
                    return parsed
    return _parse_text_general(value, path)


def _parse_text_general(value: str, path: str) -> datetime:
    text = value.strip()
    if _NUMERIC_RE.fullmatch(text):
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex admits only decimals
            raise _error(path, value) from None
        return _from_decimal(number, value, path, ROUND_DOWN)
    if not _ISO_RE.fullmatch(text):
        if len(text) == 10 and text[4:5] == "-" and text[7:8] == "-":
            raise _error(path, value, "a date without a time")
        raise _error(path, value)
    if text[-1] == "z":
        text = text[:-1] + "Z"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _error(path, value, "not a valid date-time") from None
    return _checked(parsed, value, path)


def _from_decimal(number: Decimal, value: object, path: str, rounding: str) -> datetime:
    if not number.is_finite():
        raise _error(path, value, "not a finite number")
    if number <= 0:
        raise _error(path, value, "not after 1970-01-01")
    if number >= _MS_THRESHOLD_DECIMAL:
        if number >= _MAX_MS_DECIMAL:
            raise _error(path, value, "after year 9999")
        micros = number * 1000
    else:
        micros = number * 1_000_000
    whole = int(micros.to_integral_value(rounding=rounding))
    if whole <= 0:
        raise _error(path, value, "not after 1970-01-01")
    try:
        return _EPOCH + timedelta(microseconds=whole)
    except OverflowError:  # rounding up the last microsecond of 9999
        raise _error(path, value, "after year 9999") from None


def _checked(parsed: datetime, value: object, path: str) -> datetime:
    if parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    else:
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            raise _error(path, value, "outside years 1-9999 in UTC") from None
    if parsed <= _EPOCH:
        raise _error(path, value, "not after 1970-01-01")
    return parsed
