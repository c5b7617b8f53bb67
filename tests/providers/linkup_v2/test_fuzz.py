"""Property tests: no vendor answer makes linkup-v2 raise anything but a LinkmsgError.

Every parser and mapper is reached through the provider's own operations (and
``error_for``) fed arbitrary JSON: random trees whose keys are often the
vendor's, and the documented examples of the cassettes with random parts
replaced or removed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linkmsg_linkup_v2.provider import LinkupV2Provider, LinkupV2Settings

from linkmsg.errors import LinkmsgError
from linkmsg.identity import ConversationRef, parse_profile
from linkmsg.model import Conversation, Participant
from linkmsg.paging import TimeAnchor
from linkmsg.provider import ConversationTarget, Operation, Response, SendRequest

MAILBOX = "urn:li:fsd_profile:ACoAAATPlQ0Bc8wdg-Iy8wZgEDuSdIVWJiE1Aio"
THREAD = "2-MDZiY2ExOTgtM2NjNy00OTU4LTgyNjUtZWFlMmIwZjM1NTlmXzEwMA=="
CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "linkup-v2"
KEYS = [
    "success", "data", "metadata", "error", "code", "message", "credits_consumed", "conversations", "next_cursor",
    "conversation_id", "participant", "participants", "last_message", "text", "time", "timestamp", "sender",
    "sender_info", "is_me", "profile_url", "name", "first_name", "last_name", "recipient_urn", "unread", "type",
    "messages", "entity_urn", "message_type", "attachments", "has_attachments", "url", "subject", "status",
    "entityUrn", "deliveredAt", "value", "threadId", "messageId", "total_message_count", "marked_as_read",
    "mark_as_read_error",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=0, max_value=300_000_000_000_000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["", "2-YWJjMTIz", f"urn:li:msg_conversation:({MAILBOX},{THREAD})", "1777146492678", "TEXT"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=30,
)


def _documented_bodies() -> list[Any]:
    bodies = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            bodies.append(json.loads(interaction["response"]["body"]["string"]))
    return bodies


DOCUMENTED = _documented_bodies()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated_examples(draw: st.DrawFn) -> Any:
    body = copy.deepcopy(draw(st.sampled_from(DOCUMENTED)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body)
        path = draw(st.sampled_from(paths))
        if not path:
            return draw(json_values)
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return body


answers = json_values | mutated_examples()


def provider() -> LinkupV2Provider:
    return LinkupV2Provider(LinkupV2Settings(api_key="k", account_id="acc"))


def drive(op: Operation[Any], data: Any, status: int = 200) -> None:
    """Run ``op`` answering every request with ``data``; only LinkmsgError may escape."""
    try:
        next(op)
        for _ in range(10):
            op.send(Response(status, {}, copy.deepcopy(data)))
    except StopIteration:
        pass
    except LinkmsgError:
        pass
    finally:
        op.close()


CLASSIC = ConversationTarget(ConversationRef(THREAD, MAILBOX))
SALES = ConversationTarget(
    ConversationRef(THREAD, None), Conversation(id=f"urn:li:salesNav_thread:{THREAD}", thread_id=THREAD)
)
GROUP = ConversationTarget(
    ConversationRef(THREAD, MAILBOX),
    Conversation(
        id=f"urn:li:msg_conversation:({MAILBOX},{THREAD})",
        thread_id=THREAD,
        participants=(Participant(profile_url="https://www.linkedin.com/in/jane-doe-42"),),
    ),
)
ANCHOR = TimeAnchor(1777146492678, frozenset({"x"})).to_position()

OPERATIONS: dict[str, Callable[[LinkupV2Provider], Operation[Any]]] = {
    "inbox": lambda p: p.list_conversations(limit=5, unread=None, keywords=None, position=None, options={}),
    "sales_inbox": lambda p: p.list_conversations(
        limit=5, unread=True, keywords=None, position="1785228162040", options={"sales_nav": True}
    ),
    "history": lambda p: p.list_messages(CLASSIC, limit=2, position=None),
    "history_anchor": lambda p: p.list_messages(CLASSIC, limit=2, position=ANCHOR),
    "sales_history": lambda p: p.list_messages(SALES, limit=2, position=None),
    "mark_read": lambda p: p.mark_read(CLASSIC),
    "send": lambda p: p.send_message(SendRequest("hi", to=parse_profile("jane-doe-42"))),
    "reply_by_id": lambda p: p.send_message(SendRequest("hi", conversation=CLASSIC)),
    "reply_sales_by_id": lambda p: p.send_message(SendRequest("hi", conversation=ConversationTarget(SALES.ref))),
    "reply_object": lambda p: p.send_message(SendRequest("hi", conversation=GROUP, inmail=True, subject="s")),
}

FUZZ = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.sampled_from(sorted(OPERATIONS)), answers)
def test_operations_raise_only_linkmsg_errors(operation: str, data: Any) -> None:
    drive(OPERATIONS[operation](provider()), data)


@FUZZ
@given(st.sampled_from(sorted(OPERATIONS)), mutated_examples())
def test_operations_on_mutated_documented_examples(operation: str, data: Any) -> None:
    drive(OPERATIONS[operation](provider()), data)


@FUZZ
@given(st.integers(100, 599), answers)
def test_error_for_returns_an_error_or_none(status: int, data: Any) -> None:
    error = provider().error_for(Response(status, {}, data))
    assert error is None or isinstance(error, LinkmsgError)
    if status >= 400:
        assert error is not None
