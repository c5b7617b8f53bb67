"""Settings from keyword arguments, the environment, a TOML file, or the default.

Precedence, highest first: keyword arguments; environment (``LINKMSG_PROVIDER``,
``LINKMSG_PROFILE``, and ``LINKMSG_<SETTING>`` such as ``LINKMSG_API_KEY``);
the selected profile of ``linkmsg.toml``; the built-in default (``memory``).

The file is ``$LINKMSG_CONFIG``, else ``./linkmsg.toml``, else
``<user config dir>/linkmsg/linkmsg.toml``::

    default_profile = "work"

    [profiles.work]
    provider = "connectsafely"
    api_key = "env:CONNECTSAFELY_API_KEY"   # a reference: the file can be committed
"""

from __future__ import annotations

import os
import sys
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from linkmsg.errors import ConfigError
from linkmsg.provider import Settings

__all__ = ["ResolvedConfig", "build_settings", "config_path", "resolve"]

DEFAULT_PROVIDER = "memory"
_RESERVED = {"provider"}


@attrs.frozen(slots=True)
class ResolvedConfig:
    provider: str
    profile: str | None
    values: Mapping[str, Any] = attrs.field(repr=False)
    source: str
    is_default: bool = False


def _user_config_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "linkmsg"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "linkmsg"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "linkmsg"


def config_path(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file in use, or None when there is none."""
    if path is not None:
        chosen = Path(path)
        if not chosen.is_file():
            raise ConfigError(f"config file {str(chosen)!r} does not exist")
        return chosen
    env = os.environ.get("LINKMSG_CONFIG")
    if env:
        chosen = Path(env)
        if not chosen.is_file():
            raise ConfigError(f"LINKMSG_CONFIG points to {env!r}, which does not exist")
        return chosen
    for candidate in (Path("linkmsg.toml"), _user_config_dir() / "linkmsg.toml"):
        if candidate.is_file():
            return candidate
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    unknown = set(data) - {"default_profile", "profiles"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key {sorted(unknown)[0]!r}; "
            "expected 'default_profile' and [profiles.<name>] tables"
        )
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(v, dict) for v in profiles.values()):
        raise ConfigError(f"{path}: [profiles] must hold tables like [profiles.work]")
    return data


def resolve(
    provider: str | None = None,
    profile: str | None = None,
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ResolvedConfig:
    """Work out the provider and its raw setting values (references not yet resolved)."""
    env = os.environ
    provider = provider or env.get("LINKMSG_PROVIDER") or None
    explicit_profile = profile or env.get("LINKMSG_PROFILE") or None
    file = config_path(path)
    data = _read(file) if file else {}
    profiles: dict[str, dict[str, Any]] = data.get("profiles", {})

    name = explicit_profile or data.get("default_profile")
    if name is None and len(profiles) == 1:
        name = next(iter(profiles))
    if name is None and len(profiles) > 1 and provider is None:
        # Never fall back to the demo inbox when the user has configured real profiles.
        raise ConfigError(
            f"{file} defines profiles {', '.join(sorted(profiles))} but no default_profile; "
            "set default_profile in the file, LINKMSG_PROFILE, or pass profile="
        )
    if explicit_profile and explicit_profile not in profiles:
        where = str(file) if file else "no config file was found"
        raise ConfigError(
            f"profile {explicit_profile!r} is not defined ({where}); "
            f"defined profiles: {', '.join(sorted(profiles)) or 'none'}"
        )
    values: dict[str, Any] = {}
    source = "defaults"
    if name is not None and name in profiles:
        section = profiles[name]
        # An explicit provider only borrows the default profile if it is for that provider.
        if explicit_profile or provider is None or section.get("provider") == provider:
            values.update(section)
            provider = provider or section.get("provider")
            source = f"profile {name!r} in {file}"
            if provider is None:
                raise ConfigError(f"profile {name!r} in {file} has no 'provider' key")
        else:
            name = None
    elif name is not None:
        raise ConfigError(f"{file}: default_profile {name!r} is not defined")
    values.pop("provider", None)
    is_default = provider is None
    provider = provider or DEFAULT_PROVIDER
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    return ResolvedConfig(provider, name, values, source, is_default)


def _env_settings(cls: type[Settings]) -> dict[str, str]:
    found = {}
    for field in attrs.fields(cls):
        value = os.environ.get(f"LINKMSG_{field.name.upper()}")
        if value is not None:
            found[field.name] = value
    return found


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None:
            return None
        annotation = args[0] if len(args) == 1 else annotation
    if annotation is bool and not isinstance(value, bool):
        lowered = value.strip().lower() if isinstance(value, str) else None
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if annotation in (int, float):
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                number = annotation(value)
            except ValueError:
                pass
            else:
                if annotation is float or not isinstance(value, float) or value.is_integer():
                    return number
        raise ConfigError(f"{where} must be {'an integer' if annotation is int else 'a number'}, got {value!r}")
    if annotation is str and not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {type(value).__name__}")
    return value


def _dereference(value: Any, where: str) -> Any:
    if isinstance(value, str) and value.startswith("env:"):
        var = value[4:]
        if var not in os.environ:
            raise ConfigError(f"{where} refers to environment variable {var!r}, which is not set")
        return os.environ[var]
    return value


def build_settings(cls: type[Settings], resolved: ResolvedConfig, kwargs: Mapping[str, Any]) -> Settings:
    """Settings for ``cls``: kwargs over environment over the resolved profile."""
    values: dict[str, Any] = dict(resolved.values)
    values.update(_env_settings(cls))
    values.update({k: v for k, v in kwargs.items() if v is not None})
    label = f"provider {resolved.provider!r}" + (f", profile {resolved.profile!r}" if resolved.profile else "")
    fields = attrs.fields_dict(cls)
    hints = typing.get_type_hints(cls)
    for key in values:
        if key not in fields:
            raise ConfigError(f"unknown setting {key!r} for {label}; known settings: {', '.join(sorted(fields))}")
    clean = {}
    for key, value in values.items():
        where = f"setting {key!r} ({label})"
        resolved_value = _dereference(value, where)
        try:
            clean[key] = _coerce(resolved_value, hints.get(key, Any), where)
        except ConfigError as exc:
            # A secret, or a value read through an env: reference, is never echoed.
            if resolved_value is not value or fields[key].metadata.get("secret"):
                source = f" (read from {value[4:]!r})" if resolved_value is not value else ""
                raise ConfigError(f"{where} has a value of the wrong type{source}; it is not shown") from None
            raise exc from None
    missing = [name for name, field in fields.items() if field.default is attrs.NOTHING and name not in clean]
    if missing:
        raise ConfigError(
            f"missing required setting {missing[0]!r} for {label}; pass {missing[0]}=... "
            f"or set LINKMSG_{missing[0].upper()} or add it to the profile"
        )
    try:
        return cls(**clean)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid settings for {label}: {exc}") from None
