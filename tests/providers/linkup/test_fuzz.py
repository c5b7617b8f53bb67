"""Every linkup parser and mapper, fed arbitrary JSON, raises nothing but LinkmsgError."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from linkmsg_linkup.errors import error_from_body
from linkmsg_linkup.mapping import SenderHints, read_history, read_inbox, read_send
from linkmsg_linkup.provider import LinkupProvider, LinkupSettings

from linkmsg.errors import LinkmsgError
from linkmsg.identity import ConversationRef, parse_profile
from linkmsg.model import Conversation, Message, Participant
from linkmsg.paging import TimeAnchor
from linkmsg.provider import ConversationTarget, Operation, Position, Response, SendRequest

CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "linkup"
FUZZ = settings(max_examples=2000, deadline=None)


def _documented_bodies() -> list[Any]:
    bodies = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            bodies.append(json.loads(interaction["response"]["body"]["string"]))
    return bodies


DOCUMENTED = _documented_bodies()

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)
# Values a vendor drift would plausibly put in a documented field.
drift_values = (
    json_values
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.sampled_from(["", "0", "1745266498889", "2025-04-21T20:14:58Z", "urn:li:msg_message:(x,y)", "2-abc", "null"])
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(DOCUMENTED)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(list(_paths(doc))))
        if not path:
            doc = draw(drift_values)
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(drift_values)
    return doc


bodies = json_values | mutated_documents()
OWNER = Participant(name="Titouan Prioux", is_self=True)
HINTS = st.sampled_from([SenderHints(), SenderHints("Titouan Prioux", frozenset({"Alés Préw"}))])


def _provider() -> LinkupProvider:
    return LinkupProvider(LinkupSettings(api_key="fuzz-key", login_token="fuzz-token"))


def _drive(op: Operation[Any], status: int, data: Any) -> None:
    """Run an operation answering every request with the same response."""
    with contextlib.suppress(StopIteration, LinkmsgError):
        next(op)
        for _ in range(5):
            op.send(Response(status, {}, data))


@FUZZ
@given(
    data=bodies,
    category=st.sampled_from(["inbox", "inmail", None]),
    hints=HINTS,
    conversation_id=st.sampled_from([None, "urn:li:conversation:1"]),
    with_media=st.booleans(),
    status=st.sampled_from([200, 201, 400, 401, 403, 404, 422, 429, 500, 502]),
)
def test_parsers(
    data: Any, category: str | None, hints: SenderHints, conversation_id: str | None, with_media: bool, status: int
) -> None:
    # One generated body through every parser: generating it is the slow part.
    with contextlib.suppress(LinkmsgError):
        read_inbox(data, category=category)
    with contextlib.suppress(LinkmsgError):
        read_history(data, conversation_id=conversation_id, hints=hints)
    with contextlib.suppress(LinkmsgError):
        read_send(data, with_media=with_media)
    error = error_from_body(status, data)
    assert error is None or isinstance(error, LinkmsgError)
    if status >= 400:
        assert error is not None


POSITIONS: list[Position | None] = [
    None,
    TimeAnchor(1745266498889, frozenset({"urn:li:msg_message:(urn:li:fsd_profile:ACoAAx,2-x)"})).to_position(),
    {"offset": 10},
]
TARGETS = [
    ConversationTarget(ConversationRef("2-abc", "urn:li:fsd_profile:ACoAAx")),
    ConversationTarget(ConversationRef("123")),
    ConversationTarget(
        ConversationRef("2-abc"),
        Conversation(
            "2-abc",
            "2-abc",
            (Participant(name="Alés Préw", profile_url="https://www.linkedin.com/in/ales"),),
            latest_message=Message("", None, "hi", datetime(2025, 4, 21, tzinfo=UTC), OWNER),
        ),
    ),
]


@FUZZ
@given(
    data=bodies,
    status=st.sampled_from([200, 200, 200, 404]),
    target=st.sampled_from(TARGETS),
    position=st.sampled_from(POSITIONS),
    limit=st.sampled_from([1, 3, 10, 100]),
)
def test_provider_operations(
    data: Any, status: int, target: ConversationTarget, position: Position | None, limit: int
) -> None:
    provider = _provider()
    _drive(provider.list_messages(target, limit=limit, position=position), status, data)
    inbox_position = position if position is None else "REVTQ0VORElORyYx"
    _drive(
        provider.list_conversations(limit=limit, unread=None, keywords=None, position=inbox_position, options={}),
        status,
        data,
    )
    reply = SendRequest(text="hi", conversation=ConversationTarget(ConversationRef("2-abc")))
    _drive(provider.send_message(reply), status, data)
    _drive(provider.send_message(SendRequest(text="hi", to=parse_profile("john-doe"))), status, data)
