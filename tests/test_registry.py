"""Provider plugins: discovered lazily through entry points, one bad plugin never breaks the rest."""

from __future__ import annotations

import importlib.metadata
import sys
import warnings
from pathlib import Path

import pytest

import linkmsg
from linkmsg.errors import ConfigError, ProviderNotFound
from linkmsg.memory import MemoryProvider
from linkmsg.registry import PluginLoadWarning, Registry
from tests.fakes import (
    PROVIDER_MODULE,
    entry_point_for,
    install_distribution,
    isolate,
    plugin_module,
    run,
    unique,
    use_registry,
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


def plugin(tmp_path: Path, dist: str, provider: str, *, version: str = "1.0", source: str | None = None):
    """An installed distribution ``dist`` whose entry point registers a provider named ``provider``."""
    module = unique(dist.replace("-", "_"))
    code = source if source is not None else PROVIDER_MODULE.format(name=provider)
    root = tmp_path / f"site-{module}"
    eps = install_distribution(root, dist, version=version, entry_points={provider: module}, modules={module: code})
    sys.path.insert(0, str(root))
    return eps, module


@pytest.fixture(autouse=True)
def _restore_sys_path():
    saved = list(sys.path)
    yield
    sys.path[:] = saved


# ------------------------------------------------------------------ discovery


def test_plugin_from_an_installed_distribution(tmp_path: Path) -> None:
    eps, _ = plugin(tmp_path, "linkmsg-acme", "acme", version="2.3.1")
    registry = Registry(entry_points=lambda: eps)
    info = registry.available()["acme"]
    assert (info.name, info.distribution, info.version) == ("acme", "linkmsg-acme", "2.3.1")
    assert info.capabilities == MemoryProvider.capabilities
    assert registry.get("acme").name == "acme"


def test_default_registry_reads_the_linkmsg_entry_point_group(tmp_path: Path, monkeypatch) -> None:
    _, module = plugin(tmp_path, "linkmsg-sitewide", "sitewide")
    monkeypatch.syspath_prepend(str(tmp_path / f"site-{module}"))  # also invalidates import caches
    registry = Registry()  # the real importlib.metadata lookup
    assert registry.available()["sitewide"].distribution == "linkmsg-sitewide"


def test_memory_is_registered_through_the_same_manager() -> None:
    info = Registry(entry_points=list).available()["memory"]
    assert info.distribution == "linkmsg"
    assert info.version == importlib.metadata.version("linkmsg")
    assert info.capabilities == MemoryProvider.capabilities


def test_available_providers_gives_name_capabilities_distribution_version(tmp_path: Path, monkeypatch) -> None:
    eps, _ = plugin(tmp_path, "linkmsg-acme", "acme", version="0.9")
    use_registry(monkeypatch, eps)
    found = linkmsg.available_providers()
    assert sorted(found) == ["acme", "memory"]
    for name, info in found.items():
        assert isinstance(info, linkmsg.ProviderInfo)
        assert info.name == name
        assert info.capabilities and all(isinstance(c, linkmsg.Capability) for c in info.capabilities)
        assert info.distribution and info.version
    assert (found["acme"].distribution, found["acme"].version) == ("linkmsg-acme", "0.9")


def test_a_client_uses_a_plugin_provider(tmp_path: Path, monkeypatch) -> None:
    eps, _ = plugin(tmp_path, "linkmsg-acme", "acme")
    use_registry(monkeypatch, eps)
    client = linkmsg.Client("acme")
    assert client.provider_name == "acme"
    assert len(client.list_conversations(limit=3)) == 3


def test_provider_not_found_lists_installed_providers(tmp_path: Path) -> None:
    eps, _ = plugin(tmp_path, "linkmsg-acme", "acme")
    registry = Registry(entry_points=lambda: eps)
    with pytest.raises(ProviderNotFound) as info:
        registry.get("connectsafelly")
    error = info.value
    assert isinstance(error, ConfigError)
    assert error.installed == ("acme", "memory")
    assert "'connectsafelly'" in str(error) and "acme, memory" in str(error)


def test_client_with_an_unknown_provider_raises_provider_not_found(monkeypatch) -> None:
    use_registry(monkeypatch, [])
    with pytest.raises(ProviderNotFound, match=r"installed: memory"):
        linkmsg.Client("nope")


# ------------------------------------------------------------------ laziness


def test_import_linkmsg_loads_no_plugins_and_no_http() -> None:
    code = (
        "import sys, linkmsg\n"
        "print(sorted(m for m in ('httpx', 'linkmsg.registry', 'linkmsg.client', 'pluggy') if m in sys.modules))\n"
    )
    done = run(sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_entry_points_are_read_once_on_first_use() -> None:
    calls = []

    def entry_points():
        calls.append(1)
        return []

    registry = Registry(entry_points=entry_points)
    assert calls == []
    registry.get("memory")
    registry.available()
    registry.get("memory")
    assert calls == [1]


# ------------------------------------------------------------------ broken plugins


def test_broken_plugin_is_skipped_with_a_warning_naming_it(tmp_path: Path) -> None:
    bad, _ = plugin(tmp_path, "linkmsg-broken", "broken", source="raise ImportError('no module named vendorsdk')\n")
    good, _ = plugin(tmp_path, "linkmsg-good", "good")
    registry = Registry(entry_points=lambda: bad + good)
    with pytest.warns(PluginLoadWarning) as caught:
        found = registry.available()
    assert sorted(found) == ["good", "memory"]
    message = str(caught[0].message)
    assert "'broken'" in message and "'linkmsg-broken'" in message and "vendorsdk" in message
    assert "skipped" in message
    # the other providers still work, and the warning is not repeated on every call
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert registry.get("good").name == "good"


def test_plugin_failing_in_register_providers_is_skipped(monkeypatch) -> None:
    ep = entry_point_for(monkeypatch, plugin_module(fail=RuntimeError("vendor SDK too old")), name="flaky")
    registry = Registry(entry_points=lambda: [ep])
    with pytest.warns(PluginLoadWarning, match="vendor SDK too old"):
        assert list(registry.available()) == ["memory"]


def test_plugin_registering_something_that_is_not_a_provider_is_skipped(monkeypatch) -> None:
    ep = entry_point_for(monkeypatch, plugin_module(dict), name="confused")
    registry = Registry(entry_points=lambda: [ep])
    with pytest.warns(PluginLoadWarning, match="not a linkmsg Provider"):
        assert list(registry.available()) == ["memory"]


def test_strict_plugins_makes_a_broken_plugin_fatal(tmp_path: Path, monkeypatch) -> None:
    bad, _ = plugin(tmp_path, "linkmsg-broken", "broken", source="raise ImportError('boom')\n")
    monkeypatch.setenv("LINKMSG_STRICT_PLUGINS", "1")
    with pytest.raises(ConfigError, match=r"'broken'.*'linkmsg-broken'.*LINKMSG_STRICT_PLUGINS"):
        Registry(entry_points=lambda: bad).get("memory")


def test_strict_plugins_also_covers_register_providers(monkeypatch) -> None:
    ep = entry_point_for(monkeypatch, plugin_module(fail=RuntimeError("nope")), name="flaky")
    monkeypatch.setenv("LINKMSG_STRICT_PLUGINS", "1")
    with pytest.raises(ConfigError, match="nope"):
        Registry(entry_points=lambda: [ep]).available()


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_strict_plugins_off_values(tmp_path: Path, monkeypatch, value: str) -> None:
    bad, _ = plugin(tmp_path, "linkmsg-broken", "broken", source="raise ImportError('boom')\n")
    monkeypatch.setenv("LINKMSG_STRICT_PLUGINS", value)
    with pytest.warns(PluginLoadWarning):
        Registry(entry_points=lambda: bad).get("memory")


# ------------------------------------------------------------------ name clashes


@pytest.mark.parametrize("order", ["first-wins?", "second-wins?"])
def test_two_distributions_claiming_one_name_is_an_error_naming_both(tmp_path: Path, order: str) -> None:
    one, _ = plugin(tmp_path, "linkmsg-acme", "acme")
    two, _ = plugin(tmp_path, "acme-fork", "acme")
    eps = one + two if order == "first-wins?" else two + one
    registry = Registry(entry_points=lambda: eps)
    for call in (lambda: registry.get("acme"), registry.available):
        with pytest.raises(ConfigError) as info:
            call()
        assert "'linkmsg-acme'" in str(info.value) and "'acme-fork'" in str(info.value)
        assert "'acme'" in str(info.value)
    # the clash does not take unrelated providers down
    assert registry.get("memory") is MemoryProvider


def test_a_plugin_cannot_take_over_the_built_in_memory_name(tmp_path: Path) -> None:
    eps, _ = plugin(tmp_path, "linkmsg-evil", "memory")
    with pytest.raises(ConfigError, match=r"'linkmsg'.*'linkmsg-evil'"):
        Registry(entry_points=lambda: eps).get("memory")


def test_one_distribution_listed_twice_is_not_a_clash(tmp_path: Path) -> None:
    eps, _ = plugin(tmp_path, "linkmsg-acme", "acme")
    registry = Registry(entry_points=lambda: eps + eps)
    assert registry.get("acme").name == "acme"


# ------------------------------------------------------------------ LINKMSG_LOAD_PLUGINS


def test_load_plugins_allowlist_by_distribution(tmp_path: Path, monkeypatch) -> None:
    one, _ = plugin(tmp_path, "linkmsg-acme", "acme")
    two, skipped_module = plugin(tmp_path, "linkmsg-other", "other")
    monkeypatch.setenv("LINKMSG_LOAD_PLUGINS", "linkmsg-acme")
    found = Registry(entry_points=lambda: one + two).available()
    assert sorted(found) == ["acme", "memory"]
    assert skipped_module not in sys.modules  # not even imported


def test_load_plugins_allowlist_by_entry_point_name_and_lists(tmp_path: Path, monkeypatch) -> None:
    one, _ = plugin(tmp_path, "linkmsg-acme", "acme")
    two, _ = plugin(tmp_path, "linkmsg-other", "other")
    three, _ = plugin(tmp_path, "linkmsg-third", "third")
    monkeypatch.setenv("LINKMSG_LOAD_PLUGINS", " other , linkmsg-third ")
    found = Registry(entry_points=lambda: one + two + three).available()
    assert sorted(found) == ["memory", "other", "third"]


def test_load_plugins_allowlist_keeps_a_broken_plugin_out(tmp_path: Path, monkeypatch) -> None:
    bad, _ = plugin(tmp_path, "linkmsg-broken", "broken", source="raise ImportError('boom')\n")
    good, _ = plugin(tmp_path, "linkmsg-good", "good")
    monkeypatch.setenv("LINKMSG_LOAD_PLUGINS", "linkmsg-good")
    monkeypatch.setenv("LINKMSG_STRICT_PLUGINS", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sorted(Registry(entry_points=lambda: bad + good).available()) == ["good", "memory"]


def test_load_plugins_allowlist_also_resolves_a_clash(tmp_path: Path, monkeypatch) -> None:
    one, _ = plugin(tmp_path, "linkmsg-acme", "acme")
    two, _ = plugin(tmp_path, "acme-fork", "acme")
    monkeypatch.setenv("LINKMSG_LOAD_PLUGINS", "acme-fork")
    info = Registry(entry_points=lambda: one + two).available()["acme"]
    assert info.distribution == "acme-fork"
