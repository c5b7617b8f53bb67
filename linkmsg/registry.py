"""Provider discovery: pluggy over the ``linkmsg`` entry-point group, loaded lazily.

Built-in providers register through the same hook as third-party ones. A
plugin that fails to load is skipped with a warning (``LINKMSG_STRICT_PLUGINS=1``
makes it fatal); two distributions claiming one provider name is an error that
names both; ``LINKMSG_LOAD_PLUGINS=a,b`` limits which distributions (or entry
point names) load.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import pluggy

from linkmsg import hookspecs
from linkmsg.errors import ConfigError, ProviderNotFound
from linkmsg.model import Capability
from linkmsg.provider import Provider

__all__ = ["ProviderInfo", "Registry", "available_providers", "get_provider_class", "registry"]

ENTRY_POINT_GROUP = "linkmsg"


@attrs.frozen(slots=True)
class ProviderInfo:
    name: str
    capabilities: frozenset[Capability]
    distribution: str
    version: str
    emulated: frozenset[Capability] = frozenset()


class PluginLoadWarning(UserWarning):
    """A provider plugin failed to load and was skipped."""


class Registry:
    """Providers by name. ``load()`` runs once, on first use."""

    def __init__(
        self,
        entry_points: Callable[[], Iterable[importlib.metadata.EntryPoint]] | None = None,
    ) -> None:
        self._entry_points = entry_points or (lambda: importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
        self._lock = threading.Lock()
        self._loaded = False
        self._providers: dict[str, tuple[type[Provider], str, str]] = {}
        self._clashes: dict[str, list[str]] = {}

    def _load(self) -> None:
        pm = pluggy.PluginManager("linkmsg")
        pm.add_hookspecs(hookspecs)
        from linkmsg import memory  # the built-in goes through the same hook

        version = _version("linkmsg")
        origin: dict[str, tuple[str, str]] = {}
        pm.register(memory, name="linkmsg.memory")
        origin["linkmsg.memory"] = ("linkmsg", version)

        strict = os.environ.get("LINKMSG_STRICT_PLUGINS", "") not in ("", "0", "false")
        allow = {part.strip() for part in os.environ.get("LINKMSG_LOAD_PLUGINS", "").split(",") if part.strip()}
        allow_all = not os.environ.get("LINKMSG_LOAD_PLUGINS")
        seen: set[tuple[str, str]] = set()
        for ep in self._entry_points():
            dist = ep.dist.name if ep.dist is not None else ep.name
            # One distribution can be listed twice (e.g. lib64 symlinked to lib): load it once.
            key = (_normalize(dist), ep.name)
            if key in seen:
                continue
            seen.add(key)
            if not allow_all and dist not in allow and ep.name not in allow:
                continue
            try:
                plugin = ep.load()
                pm.register(plugin, name=f"{dist}:{ep.name}")
            except Exception as exc:
                message = f"linkmsg plugin {ep.name!r} from {dist!r} failed to load: {exc!r}"
                if strict:
                    raise ConfigError(message + " (LINKMSG_STRICT_PLUGINS is set)") from exc
                warnings.warn(message + "; skipped", PluginLoadWarning, stacklevel=3)
                continue
            origin[f"{dist}:{ep.name}"] = (dist, ep.dist.version if ep.dist else "")

        for impl in pm.hook.register_providers.get_hookimpls():
            dist, ver = origin.get(impl.plugin_name, (impl.plugin_name, ""))
            try:
                impl.function(register=lambda cls, d=dist, v=ver: self._add(cls, d, v))
            except ConfigError:
                raise
            except Exception as exc:
                message = f"linkmsg plugin {dist!r} failed to register its providers: {exc!r}"
                if strict:
                    raise ConfigError(message) from exc
                warnings.warn(message + "; skipped", PluginLoadWarning, stacklevel=3)

    def _add(self, cls: Any, dist: str, version: str) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Provider)) or not getattr(cls, "name", None):
            raise TypeError(f"{cls!r} is not a linkmsg Provider subclass with a name")
        name = cls.name
        if name in self._providers and self._providers[name][0] is not cls:
            self._clashes.setdefault(name, [self._providers[name][1]]).append(dist)
            return
        self._providers[name] = (cls, dist, version)

    def ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True

    def _check_clash(self, name: str) -> None:
        if name in self._clashes:
            dists = " and ".join(repr(d) for d in self._clashes[name])
            raise ConfigError(
                f"provider name {name!r} is claimed by {dists}; uninstall one of them "
                "(or limit loading with LINKMSG_LOAD_PLUGINS)"
            )

    def get(self, name: str) -> type[Provider]:
        self.ensure_loaded()
        self._check_clash(name)
        try:
            return self._providers[name][0]
        except KeyError:
            raise ProviderNotFound(name, self._providers) from None

    def available(self) -> dict[str, ProviderInfo]:
        self.ensure_loaded()
        for name in self._clashes:
            self._check_clash(name)
        return {
            name: ProviderInfo(name, cls.capabilities, dist, version, cls.emulated)
            for name, (cls, dist, version) in sorted(self._providers.items())
        }


def _normalize(dist: str) -> str:
    return dist.lower().replace("_", "-").replace(".", "-")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "0"


registry = Registry()


def get_provider_class(name: str) -> type[Provider]:
    return registry.get(name)


def available_providers() -> dict[str, ProviderInfo]:
    """Every installed provider: name, capabilities, distribution and version."""
    return registry.available()
