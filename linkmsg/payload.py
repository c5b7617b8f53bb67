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
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from cattrs.v import format_exception

from linkmsg.errors import ResponseShapeError

__all__ = ["as_row", "converter", "field", "structure", "structure_rows"]

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

        structure_object._linkmsg_generated = True  # type: ignore[attr-defined]
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


def _vendor_key(cls: Any, name: str) -> str:
    """The vendor's JSON key for attribute ``name`` of payload class ``cls``."""
    if attrs.has(cls):
        for a in attrs.fields(cls):
            if a.name == name:
                return str(a.metadata.get(_KEY, name))
    return name


def _transform_error(exc: BaseException, path: str) -> list[str]:
    """:func:`cattrs.transform_error`, with paths in vendor keys (``sentAt``, not ``sent_at``)."""
    if isinstance(exc, cattrs.IterableValidationError):
        with_index, without = exc.group_exceptions()
        found = [(sub, f"{path}[{note.index!r}]", note.type) for sub, note in with_index]
    elif isinstance(exc, cattrs.ClassValidationError):
        with_name, without = exc.group_exceptions()
        found = [(sub, f"{path}.{_vendor_key(exc.cl, note.name)}", note.type) for sub, note in with_name]
    else:
        return [f"{format_exception(exc, None)} @ {path}"]
    errors: list[str] = []
    for sub, where, tp in found:
        if isinstance(sub, (cattrs.ClassValidationError, cattrs.IterableValidationError)):
            errors += _transform_error(sub, where)
        else:
            errors.append(f"{format_exception(sub, tp)} @ {where}")
    errors += [f"{format_exception(sub, None)} @ {path}" for sub in without]
    return errors


def _error_path(exc: BaseException) -> tuple[str, str]:
    messages = _transform_error(exc, "$") if isinstance(exc, cattrs.BaseValidationError) else [f"{exc} @ $"]
    first = messages[0] if messages else "invalid value @ $"
    what, _, where = first.rpartition(" @ ")
    return (what or first), where.removeprefix("$").lstrip(".") or "$"


# ---------------------------------------------------------------- straight-line fast path
#
# Most of what cattrs spends on a vendor page goes to calling one hook per
# field. For the payload classes themselves (attrs classes structured by the
# factory above) a straight-line function is generated instead: exact-type
# checks inline, nested classes called directly, any other field type handed to
# the converter's own hook. It accepts only what the converter accepts without
# coercion and returns the same value; anything else (a "true" string for a
# bool, a float for an int, a missing key) raises, and structure() redoes the
# document with the converter, which coerces or reports the path as before.


class _Reject(Exception):
    """The fast path does not take this document; the converter will."""


_MISSING: Any = object()
_SCALARS: dict[Any, str] = {
    str: "if {v}.__class__ is not str: raise _R",
    int: "if {v}.__class__ is not int: raise _R",
    float: "if {v}.__class__ is not float: raise _R",
    bool: "if {v} is not True and {v} is not False: raise _R",
}
_fast_hooks: dict[type[Any], Callable[[Any], Any] | None] = {}
_row_hooks: dict[tuple[type[Any], tuple[str, ...] | None], Callable[[Any], Any] | None] = {}
_compiling: set[tuple[type[Any], bool]] = set()


def _fast(cls: type[Any], rows: bool = False, names: tuple[str, ...] | None = None) -> Callable[[Any], Any] | None:
    """The generated structuring function for ``cls`` (rows: its row reader), or None to use the converter."""
    cache: dict[Any, Callable[[Any], Any] | None] = _row_hooks if rows else _fast_hooks
    key = (cls, names) if rows else cls
    try:
        return cache[key]
    except KeyError:
        pass
    if (cls, rows) in _compiling:
        return None  # a class that contains itself: the converter handles that field
    if not _generated(cls):
        cache[key] = None  # not a payload class, or one with a hook of its own
        return None
    _compiling.add((cls, rows))
    try:
        fn = _compile(cls, rows, names)
    except Exception:  # noqa: BLE001 - unresolvable annotations and the like: use the converter
        fn = None
    finally:
        _compiling.discard((cls, rows))
    cache[key] = fn
    return fn


def _generated(cls: type[Any]) -> bool:
    """A payload class structured by the factory above (not one with a hook of its own)."""
    return attrs.has(cls) and bool(getattr(converter.get_structure_hook(cls), "_linkmsg_generated", False))


def _check(tp: Any, v: str, ns: dict[str, Any], n: str, rows: bool, depth: int = 0) -> list[str] | None:
    """Lines that check/convert the value in variable ``v`` of type ``tp``; None if unsupported."""
    if tp is Any:
        return []
    if tp in _SCALARS:
        return [_SCALARS[tp].format(v=v)]
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if len(args) == 2 and type(None) in args:
            inner_type = next(a for a in args if a is not type(None))
            if inner_type in (str, int, float):  # the usual value first: one test
                return [f"if {v}.__class__ is not {inner_type.__name__} and {v} is not None: raise _R"]
            inner = _check(inner_type, v, ns, n, rows, depth)
            if inner is None:
                return None
            return [f"if {v} is not None:", *(f"    {line}" for line in inner)] if inner else []
    if attrs.has(tp):
        if rows and depth < _INLINE_DEPTH and (tp, rows) not in _compiling and _generated(tp):
            # A nested row is read in line: no call per item for ``sender_info`` and the like.
            _compiling.add((tp, rows))
            try:
                read = _read_lines(tp, v, f"{n}_", ns, rows, None, depth + 1)
            finally:
                _compiling.discard((tp, rows))
            if read is not None:
                lines, picked = read
                return [*lines, f"{v} = ({', '.join(picked)},)"]
        sub = _fast(tp, rows)
        if sub is not None:
            ns[f"s{n}"] = sub
            return [f"{v} = s{n}({v})"]
        if rows:
            return None  # a row holds rows of nested payload classes, never objects
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        if attrs.has(item):
            sub = _fast(item, rows)
            if sub is not None:
                ns[f"s{n}"] = sub
                return [f"if {v}.__class__ is not list: raise _R", f"{v} = [s{n}(e) for e in {v}]"]
            if rows:
                return None
    ns[f"h{n}"], ns[f"t{n}"] = converter.get_structure_hook(tp), tp
    return [f"{v} = h{n}({v}, t{n})"]


_INLINE_DEPTH = 2  # nested payload classes read in line in a row reader, this deep


def _accepts_none(tp: Any) -> bool:
    return tp is Any or (typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp))


def _read_lines(
    cls: type[Any], o: str, prefix: str, ns: dict[str, Any], rows: bool, names: tuple[str, ...] | None, depth: int = 0
) -> tuple[list[str], list[str]] | None:
    """Lines that check the object in variable ``o`` and read its fields into variables.

    Returns (lines, the variables of ``names`` (rows) or the constructor's arguments), or None
    when the class needs the converter.
    """
    hints = typing.get_type_hints(cls)
    get = f"get{prefix}"
    body = [f"if {o}.__class__ is not dict: raise _R", f"{get} = {o}.get"]
    args = []
    var = {}
    for i, a in enumerate(attrs.fields(cls)):
        if not a.init:
            if rows:
                return None  # a row is made of vendor values only
            continue
        v = var[a.name] = f"v{prefix}{i}"
        tp = hints.get(a.name, Any)
        check = _check(tp, v, ns, f"{prefix}{i}", rows, depth)
        if check is None:
            return None
        key = a.metadata.get(_KEY, a.name)
        default = a.default
        if default is None and _accepts_none(tp):
            # Absent reads as None, the default: one lookup, and the check lets None through.
            body += [f"{v} = {get}({key!r})", *check]
        else:
            body.append(f"{v} = {get}({key!r}, _M)")
            if default is attrs.NOTHING:
                body += [f"if {v} is _M: raise _R", *check]
            else:
                if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                    if default.takes_self:
                        return None
                    ns[f"f{prefix}{i}"] = default.factory
                    fill = f"{v} = f{prefix}{i}()"
                else:
                    ns[f"d{prefix}{i}"] = default
                    fill = f"{v} = d{prefix}{i}"
                body += [f"if {v} is _M:", f"    {fill}"]
                if check:
                    body += ["else:", *(f"    {line}" for line in check)]
        args.append(f"{a.alias}={v}" if a.kw_only else v)
    if rows:
        return body, [var[name] for name in names] if names is not None else list(var.values())
    return body, args


def _compile(cls: type[Any], rows: bool = False, names: tuple[str, ...] | None = None) -> Callable[[Any], Any] | None:
    ns: dict[str, Any] = {"_R": _Reject, "_M": _MISSING, "cls": cls}
    read = _read_lines(cls, "o", "", ns, rows, names)
    if read is None:
        return None
    body, values = read
    if rows:
        body.append(f"return ({', '.join(values)},)")
    else:
        body.append(f"return cls({', '.join(values)})")
    kind = "rows" if rows else "structure"
    source = "def fast(o):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(source, f"<linkmsg fast {kind} {cls.__module__}.{cls.__qualname__}>", "exec"), ns)  # noqa: S102
    return ns["fast"]  # type: ignore[no-any-return]


_page_hooks: dict[tuple[type[Any], tuple[str, ...] | None], Callable[[Any], list[tuple[Any, ...]]] | None] = {}


def _page_reader(cls: type[Any], names: tuple[str, ...] | None) -> Callable[[Any], list[tuple[Any, ...]]] | None:
    """One generated loop over a list of ``cls`` objects returning their rows (no call per item)."""
    try:
        return _page_hooks[cls, names]
    except KeyError:
        pass
    fn = None
    if _fast(cls, True, names) is not None:  # the class (and what it nests) takes the fast path
        ns: dict[str, Any] = {"_R": _Reject, "_M": _MISSING}
        _compiling.add((cls, True))
        try:
            read = _read_lines(cls, "o", "", ns, True, names)
        finally:
            _compiling.discard((cls, True))
        if read is not None:
            body, values = read
            lines = [
                "if items.__class__ is not list: raise _R",
                "out = []",
                "append = out.append",
                "for o in items:",
                *(f"    {line}" for line in body),
                f"    append(({', '.join(values)},))",
                "return out",
            ]
            source = "def page(items):\n" + "".join(f"    {line}\n" for line in lines)
            where = f"<linkmsg fast page {cls.__module__}.{cls.__qualname__}>"
            exec(compile(source, where, "exec"), ns)  # noqa: S102
            fn = ns["page"]
    _page_hooks[cls, names] = fn
    return fn


# ---------------------------------------------------------------- rows
#
# A mapping that turns each vendor item straight into a model object does not
# need the payload object in between: a *row* is the tuple of an item's field
# values, checked exactly as structure() checks them (nested payload classes
# as nested rows, lists of them as lists of rows). The payload class stays the
# one declaration of the vendor's shape; a row is what structure() would have
# put in the object's fields.


def as_row(obj: Any, names: Sequence[str] | None = None) -> tuple[Any, ...]:
    """The row of a structured payload object: its fields ``names`` (default: all, in order)."""
    if names is None:
        names = [a.name for a in attrs.fields(obj.__class__) if a.init]
    return tuple(_row_value(getattr(obj, name)) for name in names)


def _row_value(value: Any) -> Any:
    if attrs.has(value.__class__):
        return as_row(value)
    if value.__class__ is list:
        return [_row_value(e) for e in value]
    return value


def _row_reader(cls: type[Any], names: tuple[str, ...] | None) -> Callable[[Any], list[tuple[Any, ...]]]:
    if names is not None:
        known = {a.name for a in attrs.fields(cls)}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"{cls.__qualname__} has no field(s) {', '.join(unknown)}")
    fn = _page_hooks.get((cls, names), _MISSING)
    if fn is _MISSING:
        fn = _page_reader(cls, names)
    if fn is None:

        def never(_: Any) -> list[tuple[Any, ...]]:
            raise _Reject

        return never
    return fn  # type: ignore[no-any-return]


def structure_rows(
    data: Any, cls: type[T], at: Sequence[str], names: Sequence[str] | None = None, *, provider: str
) -> tuple[T, list[tuple[Any, ...]]]:
    """Structure ``data`` as ``cls``, except the list of payload objects at ``at``: their rows.

    ``at`` names the attributes leading to the list (``("data", "messages")``);
    each item comes back as the tuple of its fields ``names`` (default: all, in
    declaration order), and that list in the returned object is left empty.
    Items are checked as :func:`structure` checks them; on anything it would
    coerce or reject, the whole document goes through :func:`structure`, so the
    values are the same and a :class:`~linkmsg.errors.ResponseShapeError` names
    the same path.
    """
    names = tuple(names) if names is not None else None
    plan = _plan(cls, tuple(at))
    if plan is not None:
        keys, item = plan
        read = _row_reader(item, names)
        try:
            copies = [data]
            for key in keys[:-1]:
                inner = copies[-1].get(key) if copies[-1].__class__ is dict else None
                if inner.__class__ is not dict:
                    raise _Reject
                copies.append(inner)
            node = copies[-1]
            rows = read(node.get(keys[-1]) if node.__class__ is dict else None)
            head: Any = []
            for key, parent in zip(reversed(keys), reversed(copies), strict=True):
                head = {**parent, key: head}
            return structure(head, cls, provider=provider), rows
        except Exception:  # noqa: BLE001, S110 - structure() below decides and says where
            pass
    result = structure(data, cls, provider=provider)
    return _emptied(result, tuple(at), names)


def _emptied(obj: Any, at: tuple[str, ...], names: tuple[str, ...] | None) -> tuple[Any, list[tuple[Any, ...]]]:
    value = getattr(obj, at[0])
    if len(at) == 1:
        rows = [as_row(e, names) for e in value or ()]
        return attrs.evolve(obj, **{at[0]: []}), rows
    inner, rows = _emptied(value, at[1:], names)
    return attrs.evolve(obj, **{at[0]: inner}), rows


_plans: dict[tuple[type[Any], tuple[str, ...]], tuple[tuple[str, ...], type[Any]] | None] = {}


def _plan(cls: type[Any], at: tuple[str, ...]) -> tuple[tuple[str, ...], type[Any]] | None:
    """(vendor keys along ``at``, item class of the list there); None: structure() only."""
    try:
        return _plans[cls, at]
    except KeyError:
        pass
    keys = []
    tp: Any = cls
    plan = None
    for name in at:
        if not attrs.has(tp):
            raise TypeError(f"{tp!r} is not a payload class (at {name!r})")
        a = attrs.fields_dict(tp)[name]
        keys.append(str(a.metadata.get(_KEY, name)))
        tp = typing.get_type_hints(tp)[name]
    if typing.get_origin(tp) is list and attrs.has(typing.get_args(tp)[0]):
        plan = (tuple(keys), typing.get_args(tp)[0])
    else:
        raise TypeError(f"{cls.__qualname__}.{'.'.join(at)} is not a list of payload objects")
    _plans[cls, at] = plan
    return plan


def structure(data: Any, cls: type[T], *, provider: str, path: str = "") -> T:
    """Structure ``data`` as ``cls`` or raise ResponseShapeError naming the field."""
    fast = _fast_hooks.get(cls, _MISSING)
    if fast is _MISSING:
        fast = _fast(cls)
    if fast is not None:
        try:
            return fast(data)  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001, S110 - the converter decides (coerces, or reports the path)
            pass
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
