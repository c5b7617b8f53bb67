"""The ``linkmsg`` command, as a user at a terminal (or a script reading JSON lines) sees it."""

from __future__ import annotations

import json
import re
import shlex
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest

import linkmsg.client
import linkmsg.memory
from linkmsg.cli import DEMO_NOTICE, capability_matrix, main
from linkmsg.memory import Inbox
from linkmsg.model import Capability, Participant
from linkmsg.provider import HTTPSettings, Provider, Settings
from linkmsg.registry import ProviderInfo
from tests.fakes import entry_point_for, isolate, plugin_module, run, use_providers, use_registry

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


@attrs.frozen(kw_only=True, slots=True)
class ReadOnlySettings(HTTPSettings):
    base_url: str = "https://read-only.invalid"


class ReadOnly(Provider):
    name: ClassVar[str] = "read-only"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.LIST_CONVERSATIONS, Capability.FILTER_KEYWORDS, Capability.READ_HISTORY}
    )
    emulated: ClassVar[frozenset[Capability]] = frozenset({Capability.FILTER_KEYWORDS})
    settings_class: ClassVar[type[Settings]] = ReadOnlySettings


@pytest.fixture(autouse=True)
def cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    use_providers(monkeypatch, ReadOnly)
    return isolate(monkeypatch, tmp_path)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def walk(value: Any) -> Any:
    """Every (key, value) pair in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def table_rows(out: str) -> list[str]:
    """The table lines: header first, up to the blank line before the hint."""
    return out.split("\n\n")[0].splitlines()


def width(text: str) -> int:
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# ------------------------------------------------------------------ providers


def test_providers_table(capsys) -> None:
    code, out, err = cli(capsys, "providers")
    assert code == 0 and err == ""
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "DISTRIBUTION", "VERSION", "CAPABILITIES"]
    memory = next(r for r in rows if r.startswith("memory "))
    assert "linkmsg" in memory and linkmsg.__version__ in memory and "send_to_profile" in memory
    read_only = next(r for r in rows if r.startswith("read-only "))
    assert "filter_keywords (emulated)" in read_only and "send_to_profile" not in read_only


def test_providers_json(capsys) -> None:
    code, out, _ = cli(capsys, "providers", "--json")
    assert code == 0
    found = {item["name"]: item for item in json_lines(out)}
    assert set(found) == {"memory", "read-only"}
    assert found["memory"]["distribution"] == "linkmsg" and found["memory"]["version"] == linkmsg.__version__
    assert found["read-only"]["capabilities"] == ["list_conversations", "filter_keywords", "read_history"]
    assert found["read-only"]["emulated"] == ["filter_keywords"]


def test_providers_markdown_capability_matrix(capsys) -> None:
    code, out, _ = cli(capsys, "providers", "--markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "| capability | `memory` | `read-only` |"
    assert lines[1] == "|---|:-:|:-:|"
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in lines[2:]}
    assert list(rows) == [f"`{cap.value}`" for cap in Capability]
    assert rows["`list_conversations`"] == ["✓", "✓"]
    assert rows["`filter_keywords`"] == ["✓", "emulated"]
    assert rows["`send_to_profile`"] == ["✓", ""]
    assert rows["`group_send`"] == ["", ""]


def test_capability_matrix_is_importable_for_the_docs() -> None:
    infos = {
        "b": ProviderInfo("b", frozenset({Capability.TYPING}), "dist-b", "1"),
        "a": ProviderInfo("a", frozenset({Capability.INMAIL}), "dist-a", "1", frozenset({Capability.INMAIL})),
    }
    text = capability_matrix(infos)
    assert text.splitlines()[0] == "| capability | `a` | `b` |"
    assert "| `typing` |  | ✓ |" in text and "| `inmail` | emulated |  |" in text
    assert text.endswith("\n")


# ------------------------------------------------------------------ conversations


def test_conversations_on_the_demo_inbox(capsys) -> None:
    code, out, err = cli(capsys, "conversations")
    assert code == 0
    assert err.splitlines() == [DEMO_NOTICE]
    assert "demo inbox" in err and "LINKMSG_PROVIDER" in err and "linkmsg.toml" in err
    header, *rows = table_rows(out)
    assert header.split() == ["UNREAD", "LAST", "ACTIVITY", "(UTC)", "WITH", "LAST", "MESSAGE", "ID"]
    assert len(rows) == 20
    assert any(row.startswith("●") for row in rows) and any(row.startswith(" ") for row in rows)
    assert out.splitlines()[-1].startswith("more conversations: linkmsg conversations --cursor lm1.")


def test_the_printed_hint_fetches_the_next_page(capsys) -> None:
    _, out, _ = cli(capsys, "conversations", "--limit", "3", "--unread")
    hint = shlex.split(out.splitlines()[-1].partition(": ")[2])
    assert hint[:4] == ["linkmsg", "conversations", "--unread", "--limit"]
    _, more, _ = cli(capsys, *hint[1:])
    first, second = table_rows(out)[1:], table_rows(more)[1:]
    assert len(first) == len(second) == 3 and not set(first) & set(second)
    assert all(row.startswith("●") for row in first + second)


def test_following_hints_reaches_everything_once(capsys) -> None:
    ids: list[str] = []
    argv = ["--provider", "memory", "conversations", "--limit", "8"]
    for _ in range(10):
        code, out, err = cli(capsys, *argv)
        assert code == 0 and err == ""
        ids += [row.split()[-1] for row in table_rows(out)[1:]]
        last = out.splitlines()[-1]
        if not last.startswith("more conversations: "):
            break
        argv = shlex.split(last.partition(": ")[2])[1:]
        assert argv[:2] == ["--provider", "memory"]  # the hint repeats the provider the cursor belongs to
    assert len(ids) == len(set(ids)) == 30


def test_conversations_all_follows_cursors(capsys) -> None:
    code, out, _ = cli(capsys, "conversations", "--all", "--limit", "7")
    assert code == 0
    rows = out.splitlines()[1:]
    assert len(rows) == 30 and "more conversations" not in out


def test_unread_rows_are_marked(capsys) -> None:
    _, out, _ = cli(capsys, "conversations", "--unread", "--all")
    rows = out.splitlines()[1:]
    assert rows and all(re.match(r"● \d", row) for row in rows)


def test_keywords(capsys) -> None:
    _, out, _ = cli(capsys, "--json", "conversations", "--keywords", "YOU", "--all")
    items = json_lines(out)
    assert 0 < len(items) < 30
    for item in items:
        texts = [p["name"] for p in item["participants"]] + [item["latest_message"]["text"]]
        assert any("you" in text.lower() for text in texts)


def test_conversations_json_lines(capsys) -> None:
    code, out, err = cli(capsys, "--json", "conversations", "--limit", "5")
    assert code == 0
    items = json_lines(out)
    assert len(items) == 5
    for item in items:
        assert item["id"].startswith("urn:li:msg_conversation:")
        assert ISO_Z.fullmatch(item["last_activity_at"]) and ISO_Z.fullmatch(item["latest_message"]["sent_at"])
        assert all(key != "raw" for key, _ in walk(item))
        assert item["participants"][0]["name"]
    assert any(item["unread_count"] for item in items)
    assert [line for line in err.splitlines() if line != DEMO_NOTICE] == [
        line for line in err.splitlines() if line.startswith("linkmsg: more conversations: linkmsg --json")
    ]


def test_global_options_also_work_after_the_subcommand(capsys) -> None:
    _, before, _ = cli(capsys, "--json", "--provider", "memory", "conversations", "--limit", "3")
    _, after, _ = cli(capsys, "conversations", "--limit", "3", "--json", "--provider", "memory")
    assert before == after and len(json_lines(after)) == 3


def test_no_demo_notice_once_configured(capsys, cwd: Path) -> None:
    _, _, err = cli(capsys, "--provider", "memory", "conversations")
    assert err == ""
    (cwd / "linkmsg.toml").write_text('[profiles.local]\nprovider = "memory"\nseed = 3\n')
    code, out, err = cli(capsys, "conversations", "--limit", "1")
    assert code == 0 and err == "" and len(table_rows(out)) == 2


def test_empty_listing(capsys) -> None:
    code, out, _ = cli(capsys, "conversations", "--keywords", "no conversation mentions this")
    assert code == 0 and out == "(no conversations)\n"
    _, out, _ = cli(capsys, "--json", "conversations", "--keywords", "no conversation mentions this")
    assert out == ""


# ------------------------------------------------------------------ messages


def first_thread(capsys) -> str:
    _, out, _ = cli(capsys, "--json", "conversations", "--limit", "1")
    return str(json_lines(out)[0]["thread_id"])


def test_messages_table(capsys) -> None:
    thread = first_thread(capsys)
    code, out, _ = cli(capsys, "messages", thread, "--limit", "5")
    assert code == 0
    header, *rows = table_rows(out)
    assert header.split()[:4] == ["SENT", "(UTC)", "FROM", "TEXT"]
    assert len(rows) == 5
    stamps = [row[:16] for row in rows]
    assert stamps == sorted(stamps, reverse=True)
    hint = out.splitlines()[-1]
    assert hint.startswith(f"more messages: linkmsg messages {thread} --limit 5 --cursor lm1.")


def test_messages_json_all(capsys) -> None:
    thread = first_thread(capsys)
    code, out, err = cli(capsys, "--json", "messages", thread, "--all", "--limit", "6")
    assert code == 0 and "more messages" not in err
    items = json_lines(out)
    assert len(items) == len({m["id"] for m in items}) == 20
    assert all(ISO_Z.fullmatch(m["sent_at"]) and "raw" not in m for m in items)
    assert items[0]["sent_at"] >= items[-1]["sent_at"]


def test_messages_cursor_round_trip(capsys) -> None:
    thread = first_thread(capsys)
    _, out, err = cli(capsys, "--json", "messages", thread, "--limit", "15")
    hint = next(line for line in err.splitlines() if "more messages" in line)
    cursor = shlex.split(hint)[-1]
    _, rest, _ = cli(capsys, "--json", "messages", thread, "--limit", "15", "--cursor", cursor)
    ids = [m["id"] for m in json_lines(out) + json_lines(rest)]
    assert len(ids) == len(set(ids)) == 20


def test_long_text_is_cut_and_wide_characters_stay_aligned(capsys, monkeypatch) -> None:
    me = Participant(name="Me", urn="urn:li:fsd_profile:ACoAAMe", is_self=True)
    wang = Participant(name="王小明 🚀", public_id="wang-xiaoming")
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    long_text = "Let us talk about " + "the quarterly plan and " * 10 + "THE END"
    messages = [
        (long_text, now, False),
        ("短い 🙂", now - timedelta(minutes=5), True),
        ("multi\nline\ttext", now - timedelta(minutes=9), False),
    ]
    inbox = Inbox.build(owner=me, threads=[([wang], messages)])
    monkeypatch.setattr(linkmsg.memory, "demo_inbox", lambda *a, **k: inbox)

    _, out, _ = cli(capsys, "messages", inbox.conversations[0].thread_id or "")
    header, *rows = table_rows(out)
    assert "THE END" not in out and "…" in rows[0]
    assert "multi line text" in rows[2]
    column = header.index("TEXT")
    starts = [width(row[: row.index(text)]) for row, text in zip(rows, ("Let us", "短い", "multi"), strict=True)]
    assert starts == [column] * 3
    assert rows[1].split()[2] == "you"

    _, out, _ = cli(capsys, "conversations")
    header, row = table_rows(out)
    assert "王小明 🚀" in row and width(row[: row.index("Let us")]) == header.index("LAST MESSAGE")


# ------------------------------------------------------------------ send


def test_send_into_a_conversation(capsys) -> None:
    thread = first_thread(capsys)
    code, out, err = cli(capsys, "send", "Thanks, talk soon!", "--conversation", thread, "--no-typing")
    assert code == 0 and err.splitlines() == [DEMO_NOTICE]
    assert out.startswith("sent into urn:li:msg_conversation:") and "delivered" in out


def test_send_to_a_profile_json(capsys) -> None:
    code, out, _ = cli(
        capsys, "--json", "send", "Hello", "--to", "https://www.linkedin.com/in/jane-doe", "--inmail", "--subject", "Hi"
    )
    assert code == 0
    (result,) = json_lines(out)
    assert result["conversation_id"].startswith("urn:li:msg_conversation:")
    assert result["message_id"].startswith("urn:li:msg_message:")
    assert ISO_Z.fullmatch(result["sent_at"]) and result["delivered"] is True and "raw" not in result


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "hi"],
        ["send", "hi", "--to", "jane-doe", "--conversation", "2-abc"],
        ["send"],
        ["conversations", "--limit", "0"],
        ["conversations", "--limit", "many"],
        ["messages"],
        ["inbox"],
        [],
        ["--json"],
    ],
)
def test_usage_errors_exit_2(capsys, argv: list[str]) -> None:
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == ""
    assert "usage: linkmsg" in err and "error:" in err and "Traceback" not in err


def test_help_exits_0(capsys) -> None:
    code, out, _ = cli(capsys, "--help")
    assert code == 0 and "conversations" in out and "send" in out
    code, out, _ = cli(capsys, "send", "--help")
    assert code == 0 and "--no-typing" in out


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["conversations", "--cursor", "page-2"], "not a linkmsg cursor"),
        (["--provider", "connectsafelly", "conversations"], "installed: memory, read-only"),
        (["--profile", "work", "conversations"], "'work'"),
        (["--config", "missing.toml", "conversations"], "missing.toml"),
        (["messages", "not-a-thread"], "expected a conversation id"),
        (["messages", "2-MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDA5XzEwMA=="], "no conversation"),
        (["send", " ", "--to", "jane-doe"], "non-empty"),
        (["--provider", "read-only", "send", "hi", "--to", "jane-doe"], "does not support 'send_to_profile'"),
        (["--provider", "read-only", "conversations", "--unread"], "does not support 'filter_unread'"),
    ],
)
def test_linkmsg_errors_are_one_line_and_exit_1(capsys, argv: list[str], words: str) -> None:
    code, out, err = cli(capsys, *argv)
    assert code == 1 and out == ""
    lines = [line for line in err.splitlines() if line != DEMO_NOTICE]
    assert len(lines) == 1, err
    assert lines[0].startswith("linkmsg: error: ") and words in lines[0]
    assert "Traceback" not in err


def test_multi_line_error_messages_become_one_line(capsys, monkeypatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise linkmsg.ProviderError("vendor said:\nsomething\n  went wrong", provider="memory")

    monkeypatch.setattr(linkmsg.client.Client, "list_conversations", boom)
    code, _, err = cli(capsys, "--provider", "memory", "conversations")
    assert code == 1 and err == "linkmsg: error: vendor said: something went wrong\n"


def test_ctrl_c_exits_130_quietly(capsys, monkeypatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(linkmsg.client.Client, "list_conversations", interrupted)
    assert cli(capsys, "--provider", "memory", "conversations") == (130, "", "")


class ClosedPipe:
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_pipe_exits_quietly(capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = main(["--provider", "memory", "conversations", "--all"])
    assert code == 0
    assert capsys.readouterr().err == ""


def test_broken_plugin_is_one_warning_line_and_the_command_still_works(capsys, monkeypatch) -> None:
    ep = entry_point_for(monkeypatch, plugin_module(fail=RuntimeError("needs vendorsdk>=2")), name="flaky")
    use_registry(monkeypatch, [ep])
    code, out, err = cli(capsys, "providers")
    assert code == 0 and "memory" in out
    assert err.count("\n") == 1 and err.startswith("linkmsg: warning: ") and "needs vendorsdk>=2" in err


# ------------------------------------------------------------------ the installed script


def script() -> str:
    path = Path(sys.executable).parent / "linkmsg"
    assert path.exists(), "the linkmsg console script is installed with the package"
    return str(path)


def test_installed_script(tmp_path: Path) -> None:
    done = run(script(), "--json", "conversations", "--limit", "3", cwd=tmp_path, XDG_CONFIG_HOME=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert len(json_lines(done.stdout)) == 3
    assert done.stderr.splitlines()[0] == DEMO_NOTICE


def test_installed_script_error_has_no_traceback(tmp_path: Path) -> None:
    done = run(script(), "--provider", "memory", "conversations", "--cursor", "x", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("linkmsg: error: ") and done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_python_dash_m(tmp_path: Path) -> None:
    done = run(sys.executable, "-m", "linkmsg", "--provider", "memory", "providers", cwd=tmp_path)
    assert done.returncode == 0 and "memory" in done.stdout
