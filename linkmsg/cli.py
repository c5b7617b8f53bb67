"""The ``linkmsg`` command: read and send LinkedIn messages from a terminal.

::

    linkmsg providers [--markdown]
    linkmsg conversations [--limit N] [--unread] [--keywords TEXT] [--cursor C] [--all]
    linkmsg messages CONVERSATION [--limit N] [--cursor C] [--all]
    linkmsg send TEXT (--to PROFILE | --conversation ID) [--no-typing] [--subject S] [--inmail]

Global options (before or after the subcommand): ``--provider``, ``--profile``,
``--config`` pick the provider exactly as :class:`linkmsg.Client` does (keyword >
environment > ``linkmsg.toml`` > the memory demo inbox); ``--json`` prints JSON
lines, one object per item (``raw`` omitted, datetimes ISO 8601 in UTC with ``Z``).

Exit codes: 0 success, 1 a linkmsg error (one ``linkmsg: error: ...`` line on
stderr), 2 bad usage, 130 interrupted. A closed pipe (``| head``) ends quietly
with 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO, TypeVar

import attrs

from linkmsg.errors import LinkmsgError
from linkmsg.model import Capability, Conversation, Message, Page, Participant, SendResult

__all__ = ["capability_matrix", "main"]

PROG = "linkmsg"
T = TypeVar("T")

DEMO_NOTICE = (
    f"{PROG}: this is the built-in demo inbox; to use a real provider, set LINKMSG_PROVIDER and its settings "
    "(e.g. LINKMSG_API_KEY) or add a profile to linkmsg.toml (installed providers: `linkmsg providers`)"
)

# ------------------------------------------------------------------ formatting helpers


def _iso(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    micro = value.microsecond
    spec = "seconds" if not micro else "milliseconds" if micro % 1000 == 0 else "microseconds"
    return value.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or ch in "\u200d\ufe0e\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _width(text: str) -> int:
    """Terminal columns ``text`` takes (wide CJK and emoji count two)."""
    return sum(_char_width(ch) for ch in text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fit(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` columns with an ellipsis."""
    text = _one_line(text)
    if _width(text) <= width:
        return text
    kept, used = [], 0
    for ch in text:
        used += _char_width(ch)
        if used > width - 1:
            break
        kept.append(ch)
    return "".join(kept) + "…"


def _capabilities(caps: Iterable[Capability]) -> list[str]:
    """Capability values in declaration order."""
    present = set(caps)
    return [cap.value for cap in Capability if cap in present]


def _person(participant: Participant) -> str:
    return participant.name or participant.public_id or participant.id or "?"


# ------------------------------------------------------------------ capability matrix


def capability_matrix(providers: Mapping[str, Any] | None = None) -> str:
    """A Markdown table: one row per capability, one column per installed provider.

    A cell is ``✓`` (the vendor does it), ``emulated`` (linkmsg does it on the
    client) or blank. ``providers`` defaults to :func:`linkmsg.available_providers`;
    the docs embed the output of ``linkmsg providers --markdown``.
    """
    if providers is None:
        from linkmsg.registry import available_providers

        providers = available_providers()
    infos = [providers[name] for name in sorted(providers)]
    lines = [
        "| capability | " + " | ".join(f"`{info.name}`" for info in infos) + " |",
        "|---|" + "".join(":-:|" for _ in infos),
    ]
    for cap in Capability:
        cells = ["emulated" if cap in info.emulated else "✓" if cap in info.capabilities else "" for info in infos]
        lines.append(f"| `{cap.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ renderers


class Renderer(Protocol):
    """One output mode. Listing methods may be called once per page."""

    def conversations(self, items: Sequence[Conversation]) -> None: ...
    def messages(self, items: Sequence[Message]) -> None: ...
    def sent(self, result: SendResult) -> None: ...
    def providers(self, infos: Sequence[Any]) -> None: ...
    def end(self, noun: str, count: int, more: str | None) -> None: ...


class _Table:
    """An aligned table printed as rows arrive; the first non-empty batch fixes the widths.

    ``caps`` bounds each column but the last, which is printed whole.
    """

    def __init__(self, out: TextIO, headers: Sequence[str], caps: Sequence[int]) -> None:
        self.out = out
        self.headers = tuple(headers)
        self.caps = tuple(caps)
        self.widths: list[int] | None = None

    def add(self, rows: Sequence[Sequence[str]]) -> None:
        if not rows:
            return
        if self.widths is None:
            self.widths = [
                max(_width(header), *(_width(_fit(row[i], cap)) for row in rows))
                for i, (header, cap) in enumerate(zip(self.headers, self.caps, strict=False))
            ]
            self._line(self.headers)
        for row in rows:
            self._line(row)

    def _line(self, cells: Sequence[str]) -> None:
        assert self.widths is not None
        parts = []
        for cell, width in zip(cells, self.widths, strict=False):
            text = _fit(cell, width)
            parts.append(text + " " * (width - _width(text)))
        parts.append(_one_line(cells[-1]))
        print("  ".join(parts).rstrip(), file=self.out)


def _conversation_row(conv: Conversation) -> tuple[str, ...]:
    latest = conv.latest_message
    preview = ""
    if latest is not None:
        preview = ("you: " if latest.outgoing else "") + (latest.text or latest.subject or f"[{latest.kind}]")
    unread = f"● {conv.unread_count}" if conv.unread_count else ""
    people = ", ".join(_person(p) for p in conv.participants if not p.is_self) or "(only you)"
    return unread, _when(conv.last_activity_at), people, preview, conv.thread_id or conv.id


def _message_row(msg: Message) -> tuple[str, ...]:
    sender = "you" if msg.outgoing or msg.sender.is_self else _person(msg.sender)
    text = msg.text
    if msg.subject:
        text = f"[{msg.subject}] {text}"
    if msg.kind != "text":
        text = f"({msg.kind}) {text}"
    notes = [f"📎 {a.name or a.url or a.kind}" for a in msg.attachments]
    notes += [f"{r.emoji} {r.count}" for r in msg.reactions]
    return _when(msg.sent_at), sender, text, "  ".join(notes)


class TableRenderer:
    """Aligned, human-readable tables; long text cut with an ellipsis."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self._conversations = _Table(
            out, ("UNREAD", "LAST ACTIVITY (UTC)", "WITH", "LAST MESSAGE", "ID"), (7, 16, 30, 44)
        )
        self._messages = _Table(out, ("SENT (UTC)", "FROM", "TEXT", ""), (16, 24, 72))
        self._providers = _Table(out, ("NAME", "DISTRIBUTION", "VERSION", "CAPABILITIES"), (20, 30, 12))

    def conversations(self, items: Sequence[Conversation]) -> None:
        self._conversations.add([_conversation_row(c) for c in items])

    def messages(self, items: Sequence[Message]) -> None:
        self._messages.add([_message_row(m) for m in items])

    def sent(self, result: SendResult) -> None:
        facts = [f"sent into {result.conversation_id or '(conversation not reported)'}"]
        if result.message_id:
            facts.append(f"message {result.message_id}")
        if result.sent_at:
            facts.append(f"at {_when(result.sent_at)} UTC")
        if result.delivered is not None:
            facts.append("delivered" if result.delivered else "not yet delivered")
        print(", ".join(facts), file=self.out)

    def providers(self, infos: Sequence[Any]) -> None:
        rows = []
        for info in infos:
            caps = [
                c + " (emulated)" if Capability(c) in info.emulated else c for c in _capabilities(info.capabilities)
            ]
            rows.append((info.name, info.distribution, info.version or "?", ", ".join(caps)))
        self._providers.add(rows)

    def end(self, noun: str, count: int, more: str | None) -> None:
        if count == 0:
            print(f"(no {noun})", file=self.out)
        if more:
            print(f"\nmore {noun}: {more}", file=self.out)


def _drop_raw(attribute: attrs.Attribute[Any], value: Any) -> bool:
    return attribute.name != "raw"


def _json_value(instance: Any, attribute: Any, value: Any) -> Any:
    return _iso(value) if isinstance(value, datetime) else value


class JsonRenderer:
    """JSON lines: one object per item; hints go to stderr so stdout stays parseable."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err

    def _emit(self, obj: Any) -> None:
        print(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), file=self.out)

    def _item(self, item: Any) -> None:
        self._emit(attrs.asdict(item, filter=_drop_raw, value_serializer=_json_value))

    def conversations(self, items: Sequence[Conversation]) -> None:
        for item in items:
            self._item(item)

    def messages(self, items: Sequence[Message]) -> None:
        for item in items:
            self._item(item)

    def sent(self, result: SendResult) -> None:
        self._item(result)

    def providers(self, infos: Sequence[Any]) -> None:
        for info in infos:
            self._emit(
                {
                    "name": info.name,
                    "distribution": info.distribution,
                    "version": info.version,
                    "capabilities": _capabilities(info.capabilities),
                    "emulated": _capabilities(info.emulated),
                }
            )

    def end(self, noun: str, count: int, more: str | None) -> None:
        if more:
            print(f"{PROG}: more {noun}: {more}", file=self.err)


# ------------------------------------------------------------------ commands


def _open_client(args: argparse.Namespace) -> Any:
    from linkmsg.client import Client

    client = Client(args.provider, profile=args.profile, config_path=args.config)
    if client.is_demo:
        print(DEMO_NOTICE, file=sys.stderr)
    return client


def _command(args: argparse.Namespace, *words: str) -> str:
    """The shell command that repeats this one with ``words`` as its subcommand part."""
    line = [PROG]
    for option in ("provider", "profile", "config"):
        if getattr(args, option):
            line += [f"--{option}", str(getattr(args, option))]
    if args.json:
        line.append("--json")
    return shlex.join([*line, *words])


def _listing(
    fetch: Callable[[str | None], Page[T]],
    show: Callable[[Sequence[T]], None],
    *,
    cursor: str | None,
    follow: bool,
    id_of: Callable[[T], str],
    provider: str,
) -> tuple[int, str | None]:
    """Print one page, or every page from ``cursor`` on; the count and the next cursor."""
    from linkmsg.client import Pager

    pager: Pager[T] = Pager(provider, id_of)
    count = 0
    while True:
        page = fetch(cursor)
        items = pager.accept(page) if follow else list(page.items)
        show(items)
        count += len(items)
        cursor = page.next_cursor
        if not follow or cursor is None:
            return count, cursor


def _cmd_providers(args: argparse.Namespace, out: Renderer) -> int:
    from linkmsg.registry import available_providers

    infos = available_providers()
    if args.markdown:
        sys.stdout.write(capability_matrix(infos))
    else:
        out.providers(list(infos.values()))
    return 0


def _cmd_conversations(args: argparse.Namespace, out: Renderer) -> int:
    with _open_client(args) as client:

        def fetch(cursor: str | None) -> Page[Conversation]:
            page: Page[Conversation] = client.list_conversations(
                limit=args.limit, unread=args.unread or None, keywords=args.keywords, cursor=cursor
            )
            return page

        count, nxt = _listing(
            fetch,
            out.conversations,
            cursor=args.cursor,
            follow=args.all,
            id_of=lambda c: c.id,
            provider=client.provider_name,
        )
    words = ["conversations"]
    if args.unread:
        words.append("--unread")
    if args.keywords:
        words += ["--keywords", args.keywords]
    if args.limit:
        words += ["--limit", str(args.limit)]
    out.end("conversations", count, _command(args, *words, "--cursor", nxt) if nxt else None)
    return 0


def _cmd_messages(args: argparse.Namespace, out: Renderer) -> int:
    with _open_client(args) as client:

        def fetch(cursor: str | None) -> Page[Message]:
            page: Page[Message] = client.list_messages(args.conversation, limit=args.limit, cursor=cursor)
            return page

        count, nxt = _listing(
            fetch,
            out.messages,
            cursor=args.cursor,
            follow=args.all,
            id_of=lambda m: m.id or "",
            provider=client.provider_name,
        )
    words = ["messages", args.conversation]
    if args.limit:
        words += ["--limit", str(args.limit)]
    out.end("messages", count, _command(args, *words, "--cursor", nxt) if nxt else None)
    return 0


def _cmd_send(args: argparse.Namespace, out: Renderer) -> int:
    with _open_client(args) as client:
        result = client.send_message(
            args.text,
            to=args.to,
            conversation=args.conversation,
            typing=not args.no_typing,
            subject=args.subject,
            inmail=args.inmail,
        )
    out.sent(result)
    return 0


# ------------------------------------------------------------------ parser


_GLOBAL_DEFAULTS: dict[str, Any] = {"provider": None, "profile": None, "config": None, "json": False}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _global_options() -> argparse.ArgumentParser:
    # SUPPRESS: an option given after the subcommand must not be reset by its default.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = common.add_argument_group("global options")
    group.add_argument("--provider", help="provider name (overrides LINKMSG_PROVIDER and the profile)")
    group.add_argument("--profile", help="profile in linkmsg.toml (overrides LINKMSG_PROFILE)")
    group.add_argument("--config", metavar="PATH", help="config file (overrides LINKMSG_CONFIG)")
    group.add_argument("--json", action="store_true", help="print JSON lines, one object per item")
    return common


def _parser() -> argparse.ArgumentParser:
    common = _global_options()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Read and send LinkedIn messages through any installed linkmsg provider.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("providers", parents=[common], help="list installed providers and their capabilities")
    p.add_argument("--markdown", action="store_true", help="print a Markdown capability matrix of all providers")
    p.set_defaults(handler=_cmd_providers)

    c = sub.add_parser("conversations", parents=[common], help="list conversations, most recent first")
    c.add_argument("--limit", type=_positive, help="conversations per page (default: the provider's page size)")
    c.add_argument("--unread", action="store_true", help="only conversations with unread messages")
    c.add_argument("--keywords", help="only conversations matching these words")
    c.add_argument("--cursor", help="continue from the `next` cursor a previous run printed")
    c.add_argument("--all", action="store_true", help="follow cursors to the end of the listing")
    c.set_defaults(handler=_cmd_conversations)

    m = sub.add_parser("messages", parents=[common], help="list a conversation's messages, newest first")
    m.add_argument("conversation", metavar="CONVERSATION", help="conversation id, thread id or thread URL")
    m.add_argument("--limit", type=_positive, help="messages per page (default: the provider's page size)")
    m.add_argument("--cursor", help="continue from the `next` cursor a previous run printed")
    m.add_argument("--all", action="store_true", help="follow cursors back to the first message")
    m.set_defaults(handler=_cmd_messages)

    s = sub.add_parser("send", parents=[common], help="send a message to a profile or into a conversation")
    s.add_argument("text", metavar="TEXT", help="the message text")
    target = s.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="PROFILE", help="profile URN, member id, profile URL or slug")
    target.add_argument("--conversation", metavar="ID", help="conversation id or thread id to reply in")
    s.add_argument("--no-typing", action="store_true", help="do not show a typing indicator first")
    s.add_argument("--subject", help="subject line (InMail)")
    s.add_argument("--inmail", action="store_true", help="send as InMail")
    s.set_defaults(handler=_cmd_send)
    return parser


# ------------------------------------------------------------------ entry point


def _show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    print(f"{PROG}: warning: {_one_line(str(message))}", file=sys.stderr)


def _quiet_stdout() -> None:
    """After a closed pipe: send what is still buffered to /dev/null, so exit stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (captured in tests): nothing will be flushed to a pipe


def main(argv: list[str] | None = None) -> int:
    """Run the ``linkmsg`` command; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else 2
    for name, default in _GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    renderer: Renderer = (JsonRenderer if args.json else TableRenderer)(sys.stdout, sys.stderr)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            code: int = args.handler(args, renderer)
        sys.stdout.flush()  # a closed pipe must fail here, not at interpreter exit
        return code
    except LinkmsgError as exc:
        print(f"{PROG}: error: {_one_line(str(exc)) or type(exc).__name__}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
