"""The documentation is tested like code.

* Every fenced ```python block of README.md and docs/**/*.md runs, in order,
  one namespace per file (like a notebook), against the memory provider or a
  vendor emulator behind ``httpx.MockTransport``. Sockets are closed to it, the
  working directory is an empty temporary one and no ``LINKMSG_*`` variable or
  user config file can leak in. A block that is only a fragment is preceded by
  ``<!-- not-tested: reason -->``.
* The provider tutorial (docs/plugins.md) is assembled into a plugin and its
  conformance test class is run with pytest, so the tutorial provider really
  passes the kit it advertises.
* The committed capability matrix equals ``linkmsg providers --markdown``.
* .ci/run starts with the README's two quick-start commands, verbatim.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import traceback
import types
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CAPABILITY_PAGE = DOCS / "_generated" / "capabilities.md"
PLUGIN_TUTORIAL = DOCS / "plugins.md"

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)(?P<attrs>[^`]*)$")
_TITLE = re.compile(r'\btitle="(?P<title>[^"]+)"')
_SKIP = re.compile(r"^\s*<!--\s*not-tested:\s*(?P<reason>.*?)\s*-->\s*$")


@attrs.frozen
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    skip_reason: str | None
    title: str | None = None

    @property
    def file(self) -> str | None:
        """A block titled with a relative path is a file of the example project."""
        if self.title and re.fullmatch(r"[\w-]+(/[\w.-]+)*\.\w+", self.title):
            return self.title
        return None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file, with its not-tested marker."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].lower()
        title = _TITLE.search(match["attrs"] or "")
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not re.match(rf"^{re.escape(indent)}{fence[0]}{{{len(fence)},}}\s*$", lines[i]):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        i += 1
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        skip = _SKIP.match(previous)
        found.append(
            Block(
                path,
                start + 1,
                info,
                "\n".join(body) + "\n",
                skip["reason"] if skip else None,
                title["title"] if title else None,
            )
        )
    return found


def markdown_files() -> list[Path]:
    pages = sorted(p for p in DOCS.rglob("*.md") if "_generated" not in p.relative_to(DOCS).parts)
    return [README, *pages]


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No developer config, no LINKMSG_* variable, no network beyond loopback; cwd is empty."""
    for name in list(os.environ):
        if name.startswith("LINKMSG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create = socket.create_connection

    def loopback(address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"documentation examples must not reach the network (tried {host!r})")

    def connect(self: socket.socket, address: object) -> None:
        loopback(address)
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        loopback(address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def create_connection(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        loopback(address)
        return real_create(address, *args, **kwargs)  # type: ignore[arg-type]

    # Local fake vendor servers (linkmsg.testing.server) are fine; anything else is not.
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    saved = dict(os.environ)
    try:
        yield work
    finally:  # examples may set variables, as a reader would in a shell
        os.environ.clear()
        os.environ.update(saved)


def run_blocks(path: Path, workdir: Path) -> int:
    """Play the file's blocks in order, like a reader would; return how many ran.

    A block titled with a file name (```toml title="linkmsg.toml"```) is written
    to that path under ``workdir``; every other Python block is executed, all in
    one fresh module, with ``workdir`` importable.
    """
    name = "linkmsg_docs_" + re.sub(r"\W", "_", _id(path))
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    sys.path.insert(0, str(workdir))
    before = set(sys.modules)
    ran = 0
    try:
        for block in blocks(path):
            if block.skip_reason is not None:
                continue
            if block.file is not None:
                target = workdir / block.file
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.code, encoding="utf-8")
                continue
            if block.language not in ("python", "py"):
                continue
            code = compile(block.code, block.where, "exec")
            try:
                exec(code, module.__dict__)  # noqa: S102 - the point of the test
            except Exception:
                pytest.fail(f"example at {block.where} failed:\n{traceback.format_exc()}", pytrace=False)
            ran += 1
        if any(b.file and Path(b.file).name.startswith("test_") for b in blocks(path)):
            result = run_pytest(workdir)
            passed = re.search(r"(\d+) passed", result.stdout)
            if result.returncode != 0 or passed is None:
                pytest.fail(
                    f"the tests written by {_id(path)} failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}",
                    pytrace=False,
                )
            ran += int(passed.group(1))
    finally:
        sys.path.remove(str(workdir))
        for added in set(sys.modules) - before:
            origin = getattr(sys.modules[added], "__file__", None) or ""
            if origin.startswith(str(workdir)):
                del sys.modules[added]
        sys.modules.pop(name, None)
    return ran


@pytest.mark.parametrize("path", markdown_files(), ids=_id)
def test_examples_run(path: Path, isolated: Path) -> None:
    run_blocks(path, isolated)


def test_not_tested_markers_are_rare_and_justified() -> None:
    python = [b for p in markdown_files() for b in blocks(p) if b.language in ("python", "py")]
    skipped = [b for b in python if b.skip_reason is not None]
    for block in skipped:
        assert len(block.skip_reason or "") >= 10, f"{block.where}: say why the example cannot run"
    assert len(python) >= 30, "expected the docs to carry runnable examples"
    assert len(skipped) <= len(python) // 5, f"too many untested examples: {[b.where for b in skipped]}"
    for path in markdown_files():
        text = path.read_text(encoding="utf-8").splitlines()
        marked = {b.line for b in blocks(path) if b.skip_reason is not None}
        for n, line in enumerate(text, 1):
            if _SKIP.match(line):
                following = next(m for m in range(n + 1, len(text) + 2) if m > len(text) or text[m - 1].strip())
                assert following in marked, f"{_id(path)}:{n}: not-tested marker without a code block after it"


def test_readme_examples_exist() -> None:
    python = [b for b in blocks(README) if b.language == "python"]
    assert python and all(b.skip_reason is None for b in python)


# ------------------------------------------------------------- plugin tutorial

# A pytest plugin standing in for the installed distribution.
_CONFTEST = """
import importlib.metadata
import tomllib

import pytest

import linkmsg.registry


@pytest.fixture(autouse=True, scope="session")
def plugin_installed():
    \"\"\"What `pip install .` does: expose the pyproject's entry points to linkmsg.\"\"\"
    try:
        with open("pyproject.toml", "rb") as fh:
            declared = tomllib.load(fh)["project"]["entry-points"]["linkmsg"]
    except (OSError, KeyError):
        declared = {}
    ours = [importlib.metadata.EntryPoint(name, value, "linkmsg") for name, value in declared.items()]
    installed = list(importlib.metadata.entry_points(group="linkmsg"))
    real = linkmsg.registry.registry
    linkmsg.registry.registry = linkmsg.registry.Registry(entry_points=lambda: [*installed, *ours])
    yield
    linkmsg.registry.registry = real
"""


def run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    """Run pytest on the example project in ``project``, as its author would.

    If the project's pyproject.toml declares ``linkmsg`` entry points, they are
    made visible to linkmsg as if the project were installed.
    """
    (project / "_docs_install_plugin.py").write_text(_CONFTEST, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKMSG_")}
    env["XDG_CONFIG_HOME"] = str(project / "xdg")
    env["PYTHONPATH"] = str(project)
    return subprocess.run(  # noqa: S603 - runs pytest on files the test wrote
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "_docs_install_plugin",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            *sorted({str(p.relative_to(project)) for p in project.rglob("test_*.py")}),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_plugin_tutorial_passes_the_conformance_kit() -> None:
    """docs/plugins.md lays out a whole plugin project, conformance test included."""
    files = {b.file for b in blocks(PLUGIN_TUTORIAL) if b.file is not None and b.skip_reason is None}
    assert {"pyproject.toml", "linkmsg_acme/plugin.py", "tests/test_conformance.py"} <= files, files
    text = "\n".join(b.code for b in blocks(PLUGIN_TUTORIAL) if b.file == "tests/test_conformance.py")
    assert "(ProviderConformance)" in text
    # test_examples_run[docs/plugins.md] writes the files and runs their tests.


# ------------------------------------------------------------- capability matrix


def generated_matrix(tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKMSG_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env["COLUMNS"] = "200"
    result = subprocess.run(
        [sys.executable, "-m", "linkmsg", "providers", "--markdown"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"`linkmsg providers --markdown` failed:\n{result.stderr}"
    return result.stdout


def test_capability_page_matches_the_code(tmp_path: Path) -> None:
    fresh = generated_matrix(tmp_path)
    committed = CAPABILITY_PAGE.read_text(encoding="utf-8") if CAPABILITY_PAGE.exists() else ""
    assert committed == fresh, (
        f"{CAPABILITY_PAGE.relative_to(ROOT)} is out of date; regenerate it with\n"
        f"    linkmsg providers --markdown > {CAPABILITY_PAGE.relative_to(ROOT)}"
    )
    for name in ("memory", "connectsafely", "linkup", "linkup-v2"):
        assert name in fresh, f"provider {name!r} is missing from the matrix"


def test_capability_page_is_included_in_the_docs() -> None:
    index = (DOCS / "providers" / "index.md").read_text(encoding="utf-8")
    assert '--8<-- "_generated/capabilities.md"' in index


# ------------------------------------------------------------- CI


def _quick_start_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    bash = [b for b in blocks(README) if b.language in ("bash", "sh", "console") and b.code.strip() in section]
    commands = [line.strip() for b in bash for line in b.code.splitlines() if line.strip()]
    return [c for c in commands if not c.startswith("#")]


def test_ci_runs_the_readme_quick_start_first() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2, commands
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    body = [line for line in ci if line not in ("set -euo pipefail",) and not line.startswith("cd ")]
    assert body[:2] == commands, "the README's two quick-start commands must be the first two commands of .ci/run"


def test_ci_runs_every_gate() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for gate in ("ruff check", "ruff format --check", "mypy --strict", "mkdocs build --strict"):
        assert gate in ci, f".ci/run does not run {gate!r}"
