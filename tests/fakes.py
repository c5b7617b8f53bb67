"""Helpers for the core tests: a clean environment and fake provider plugins.

Nothing here depends on the vendor plugins: test providers are registered
through a fresh :class:`~linkmsg.registry.Registry` fed with fake entry points.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import os
import subprocess
import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import linkmsg.registry
from linkmsg.hookspecs import hookimpl
from linkmsg.registry import ENTRY_POINT_GROUP, Registry

_counter = itertools.count()


def unique(prefix: str) -> str:
    """A module name no other test has imported (sys.modules outlives a test)."""
    return f"{prefix}_{os.getpid()}_{next(_counter)}"


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No LINKMSG_* variables, no ./linkmsg.toml, an empty user config dir."""
    for key in list(os.environ):
        if key.startswith("LINKMSG_"):
            monkeypatch.delenv(key)
    home = tmp_path / "cwd"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(home)
    return home


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without LINKMSG_* (for subprocesses), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKMSG_")}
    env.update(extra)
    return env


def plugin_module(*classes: type[Any], fail: BaseException | None = None) -> types.ModuleType:
    """An in-memory plugin module registering ``classes`` (or raising ``fail``)."""
    module = types.ModuleType(unique("linkmsg_test_plugin"))

    @hookimpl
    def register_providers(register: Any) -> None:
        if fail is not None:
            raise fail
        for cls in classes:
            register(cls)

    module.register_providers = register_providers  # type: ignore[attr-defined]
    return module


def entry_point_for(monkeypatch: pytest.MonkeyPatch, module: types.ModuleType, name: str = "tests") -> Any:
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return importlib.metadata.EntryPoint(name=name, value=module.__name__, group=ENTRY_POINT_GROUP)


def use_registry(monkeypatch: pytest.MonkeyPatch, entry_points: Iterable[Any]) -> Registry:
    """Make every Client and ``available_providers()`` use a registry over ``entry_points``."""
    eps = list(entry_points)
    registry = Registry(entry_points=lambda: eps)
    monkeypatch.setattr(linkmsg.registry, "registry", registry)
    return registry


def use_providers(monkeypatch: pytest.MonkeyPatch, *classes: type[Any]) -> Registry:
    """Register test provider classes next to the built-in memory provider."""
    return use_registry(monkeypatch, [entry_point_for(monkeypatch, plugin_module(*classes))])


def install_distribution(
    root: Path,
    dist: str,
    *,
    version: str = "1.0",
    entry_points: dict[str, str],
    modules: dict[str, str],
) -> list[importlib.metadata.EntryPoint]:
    """Write a real installed distribution (``*.dist-info``) with plugin modules under ``root``.

    Returns its ``linkmsg`` entry points, each knowing its distribution, exactly
    as ``importlib.metadata`` reports them for a pip-installed plugin.
    """
    root.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        (root / f"{name}.py").write_text(source, encoding="utf-8")
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}", encoding="utf-8")
    found = [
        ep
        for distribution in importlib.metadata.distributions(path=[str(root)])
        for ep in distribution.entry_points
        if ep.group == ENTRY_POINT_GROUP
    ]
    assert found, f"no entry points found under {root}"
    return found


PROVIDER_MODULE = """
from linkmsg import hookimpl
from linkmsg.memory import MemoryProvider


class Provider(MemoryProvider):
    name = {name!r}


@hookimpl
def register_providers(register):
    register(Provider)
"""


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command with a clean linkmsg environment (no LINKMSG_* variables)."""
    return subprocess.run(  # noqa: S603 - fixed argv built by the tests
        list(args), capture_output=True, text=True, env=clean_env(**env), cwd=cwd, check=False, timeout=120
    )
