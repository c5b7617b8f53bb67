"""Structuring vendor JSON into attrs payload classes with cattrs.

Providers describe a vendor payload as small attrs classes and name the
vendor's key once with :func:`field` (``field("sentAt")``). :func:`structure`
runs a fast converter first and, only when that fails, a detailed one to report
the path of the bad field as :class:`~linkmsg.errors.ResponseShapeError`.
Unknown extra keys are always tolerated: vendors add fields.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from linkmsg.errors import ResponseShapeError

__all__ = ["converter", "field", "structure"]

T = TypeVar("T")
_KEY = "linkmsg_key"


def field(key: str | None = None, **kwargs: Any) -> Any:
    """An attrs field read from the vendor key ``key`` (default: its own name)."""
    metadata = dict(kwargs.pop("metadata", {}) or {})
    if key is not None:
        metadata[_KEY] = key
    return attrs.field(metadata=metadata, **kwargs)


def _make_converter(detailed: bool) -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)

    def factory(cls: type[Any]) -> Any:
        renames = {a.name: override(rename=a.metadata[_KEY]) for a in attrs.fields(cls) if _KEY in a.metadata}
        inner = make_dict_structure_fn(cls, conv, **renames)  # type: ignore[arg-type]
        name = cls.__name__

        # cattrs tests keys with `in`, a substring test on a string: a string
        # where an object belongs would otherwise become all defaults.
        def structure_object(value: Any, target: Any) -> Any:
            if value.__class__ is not dict:
                raise TypeError(f"expected an object for {name}, got {type(value).__name__}")
            return inner(value, target)

        return structure_object

    conv.register_structure_hook_factory(attrs.has, factory)
    # Scalars are checked, not coerced: bool("false") is True and str(12) hides drift.
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    if not detailed:
        # ``X | None`` fields are most of every payload. cattrs structures them
        # through a generic method that re-dispatches on every value; bind the
        # inner hook once instead (same acceptance: it is the same inner hook).
        conv.register_structure_hook_factory(_is_optional, lambda t: _optional_hook(conv, t))
    return conv


def _is_optional(tp: Any) -> bool:
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return False
    args = typing.get_args(tp)
    return len(args) == 2 and type(None) in args


def _optional_hook(conv: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    inner_type = next(a for a in typing.get_args(tp) if a is not type(None))
    inner = conv.get_structure_hook(inner_type)
    if inner is _structure_str:

        def structure_optional_str(value: Any, _: Any) -> Any:
            if value is None or isinstance(value, str):
                return value
            raise TypeError(f"expected a string, got {type(value).__name__}")

        return structure_optional_str

    def structure_optional(value: Any, _: Any) -> Any:
        return None if value is None else inner(value, inner_type)

    return structure_optional


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


_BOOL_TEXT = {"true": True, "false": False}


def _structure_bool(value: Any, _: Any) -> bool:
    if value is True or value is False:
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:
        return _BOOL_TEXT[value.strip().lower()]  # vendors document "true"/"false" strings too
    raise TypeError(f"expected a boolean, got {value!r:.40}")


def _structure_int(value: Any, _: Any) -> int:
    if value.__class__ is int:
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError(f"expected an integer, got {value!r:.40}")


def _structure_float(value: Any, _: Any) -> float:
    if value.__class__ in (int, float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise TypeError(f"expected a number, got {value!r:.40}")


converter = _make_converter(detailed=False)
_detailed = _make_converter(detailed=True)


def _error_path(exc: BaseException) -> tuple[str, str]:
    messages = cattrs.transform_error(exc, path="$") if isinstance(exc, cattrs.BaseValidationError) else [f"{exc} @ $"]
    first = messages[0] if messages else "invalid value @ $"
    what, _, where = first.rpartition(" @ ")
    return (what or first), where.removeprefix("$").lstrip(".") or "$"


def structure(data: Any, cls: type[T], *, provider: str, path: str = "") -> T:
    """Structure ``data`` as ``cls`` or raise ResponseShapeError naming the field."""
    try:
        return converter.structure(data, cls)
    except Exception:  # noqa: BLE001, S110 - any failure is a shape error; the slow pass says where
        pass
    try:
        result = _detailed.structure(data, cls)
    except Exception as exc:  # noqa: BLE001
        what, where = _error_path(exc)
        full = ".".join(p for p in (path, where if where != "$" else "") if p) or "$"
        raise ResponseShapeError(
            f"{provider} returned an unexpected response shape at {full}: {what}",
            path=full,
            provider=provider,
        ) from None
    return result
