"""linkmsg.testing: the fake vendor server works without pytest; the conformance kit says what it needs."""

from __future__ import annotations

import sys
import textwrap

import pytest

import linkmsg.testing
from tests.fakes import run

# Runs in a fresh interpreter where importing pytest fails, as on a machine without it.
_WITHOUT_PYTEST = """
import sys
sys.modules["pytest"] = None  # any "import pytest" now raises ModuleNotFoundError

{body}
"""


def _without_pytest(body: str) -> str:
    result = run(sys.executable, "-c", _WITHOUT_PYTEST.format(body=textwrap.dedent(body)))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_fake_vendor_server_serves_without_pytest() -> None:
    out = _without_pytest(
        """
        import httpx
        from linkmsg.testing.server import FakeVendorServer

        with FakeVendorServer(lambda request: httpx.Response(200, json={"ok": True})) as server:
            print(httpx.get(server.url + "/ping").json())
        print("pytest" in sys.modules and sys.modules["pytest"] is not None)
        """
    )
    assert out.split() == ["{'ok':", "True}", "False"]


def test_conformance_kit_without_pytest_says_to_install_it() -> None:
    out = _without_pytest(
        """
        import linkmsg.testing
        try:
            linkmsg.testing.ProviderConformance
        except ImportError as exc:
            print(exc)
        """
    )
    assert "install pytest" in out
    assert "ProviderConformance" in out


def test_kit_names_resolve_to_the_conformance_module() -> None:
    from linkmsg.testing import ProviderConformance, RecordingEmulator, conformance, conformance_inbox

    assert ProviderConformance is conformance.ProviderConformance
    assert RecordingEmulator is conformance.RecordingEmulator
    assert conformance_inbox is conformance.conformance_inbox
    assert set(linkmsg.testing.__all__) <= set(dir(linkmsg.testing))


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        linkmsg.testing.Nope  # noqa: B018
