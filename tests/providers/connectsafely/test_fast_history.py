"""The one-pass history hot path gives exactly what the declared path gives.

``list_messages`` maps a top-level ``messages[]`` with
:func:`linkmsg_connectsafely.mapping.fast_messages` and falls back to
``structure()`` + :func:`~linkmsg_connectsafely.mapping.messages` on anything it
does not take. These tests run every answer both ways (the declared way by
switching the hot path off) and compare the pages, the errors and what the
provider learned.
"""

from __future__ import annotations

import copy
from collections.abc import Generator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from linkmsg_connectsafely import mapping
from linkmsg_connectsafely.payloads import (
    AttachmentPayload,
    MessagePayload,
    MessagesHeadPayload,
    MessagesPayload,
    PersonPayload,
    ReactionPayload,
)
from linkmsg_connectsafely.provider import ConnectSafelyProvider, ConnectSafelySettings

from linkmsg.errors import LinkmsgError, ResponseShapeError
from linkmsg.identity import parse_conversation_id
from linkmsg.model import Message
from linkmsg.payload import structure
from linkmsg.provider import ConversationTarget, Request, Response

from .test_properties import (
    CONV,
    DETAILS,
    FLAT_MESSAGES,
    LEGACY_DETAILS,
    LEONARD,
    OWNER,
    THREAD,
    json_values,
    mutated,
    scalars,
)

OTHER = "ACoAAB1m6pQBxYyWcLeT8S3Q3fUqGz0ZJv9k2nE"


def _message(n: int, sender: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    key = f"2-MTc2MzM3ODA2Mjg4MWI0MTM0My0{n:03d}="
    out: dict[str, Any] = {
        "messageId": f"urn:li:msg_message:({OWNER},{key})",
        "backendMessageUrn": f"urn:li:messagingMessage:{key}",
        "text": f"message {n}",
        "subject": None,
        "sentAt": 1763378062881 + n * 1000,
        "sender": sender,
        "attachments": None,
        "reactions": None,
        "hasAttachment": False,
    }
    out.update(extra)
    return out


ME = {"profileId": OWNER.rpartition(":")[2], "name": "Owner", "profileUrl": None, "profilePicture": None}
LEO = {
    "profileId": LEONARD,
    "name": "Leonard Esere",
    "profileUrl": f"https://www.linkedin.com/in/{LEONARD}",
    "profilePicture": "https://media.licdn.com/x",
    "participantUrn": f"urn:li:msg_messagingParticipant:urn:li:fsd_profile:{LEONARD}",
}
ANA = {"profileId": OTHER, "name": "Ana", "headline": "CTO"}
THREAD_PAGE = {
    "success": True,
    "profileUrn": OWNER,
    "conversationUrn": CONV,
    "total": 9,
    "messages": [
        _message(1, LEO),
        _message(2, dict(ME)),
        _message(3, dict(LEO)),
        _message(4, ANA, attachments=[{"type": None, "url": "https://x/y", "name": "deck.pdf"}]),
        _message(5, dict(ME), reactions=[{"emoji": "👍"}, {"emoji": "", "count": 3}, {"emoji": "🎉", "count": 2}]),
        _message(6, dict(LEO), subject="Re: intro", attachments=[], reactions=[]),
        _message(7, dict(ANA), text=None, sentAt="2025-11-17T11:14:22.881Z"),
        _message(8, dict(LEO), messageId=None, messageUrn=f"urn:li:messagingMessage:2-MTc2Mz{'A' * 20}="),
        _message(9, dict(LEO), messageId="", messageUrn=None),
    ],
    "pagination": {"hasMoreBefore": False},
}
FLAT_PAGE = {
    "success": True,
    "messages": [
        {
            "messageUrn": f"urn:li:msg_message:({OWNER},2-MTc2MzM3ODA2Mjg4MWI0MTM0My0{n:03d}=)",
            "text": "hi",
            "sentAt": 1763378062881 + n,
            "senderProfileId": LEONARD if n % 2 else OWNER.rpartition(":")[2],
            "senderName": "Leonard" if n % 2 else "Owner",
            "senderPhoto": None,
            "isSentByOwner": [None, True, False, "true"][n % 4],
            "hasAttachment": False,
            "attachments": [],
        }
        for n in range(12)
    ],
    "hasMore": True,
}
EXAMPLES = [THREAD_PAGE, FLAT_PAGE, DETAILS, FLAT_MESSAGES, LEGACY_DETAILS]
TARGETS = [ConversationTarget(parse_conversation_id(CONV)), ConversationTarget(parse_conversation_id(THREAD))]


def provider() -> ConnectSafelyProvider:
    return ConnectSafelyProvider(ConnectSafelySettings(api_key="test-key-fast-history"))


def _run(
    p: ConnectSafelyProvider, data: Any, target: ConversationTarget, limit: int, position: Any, url: str
) -> tuple[Any, ...]:
    """Everything observable about one list_messages call."""
    operation: Generator[Request, Response, Any] = p.list_messages(target, limit=limit, position=position)
    try:
        next(operation)
        operation.send(Response(200, {}, data, url=url))
    except StopIteration as stop:
        page = stop.value
        return (
            "page",
            page.items,
            [id(m.raw) for m in page.items],
            page.next_position,
            page.total,
            p.mailbox_urn,
        )
    except LinkmsgError as exc:
        return ("error", type(exc), str(exc), getattr(exc, "path", None), p.mailbox_urn)
    raise AssertionError("list_messages asked for a second request")


def both_ways(data: Any, target: ConversationTarget, limit: int = 100, position: Any = None, url: str = "") -> Any:
    fast = _run(provider(), data, target, limit, position, url)
    slow_provider = provider()
    slow_provider._fast_history = lambda response, ref: None  # type: ignore[method-assign]
    slow = _run(slow_provider, data, target, limit, position, url)
    assert fast == slow
    return fast


@pytest.mark.parametrize("target", TARGETS, ids=["urn", "bare-thread"])
@pytest.mark.parametrize("example", EXAMPLES, ids=["thread", "flat", "details", "flat-doc", "legacy"])
def test_documented_shapes_map_the_same_both_ways(example: dict[str, Any], target: ConversationTarget) -> None:
    result = both_ways(example, target)
    if example is not FLAT_MESSAGES:  # the generated example's sentAt is 0: a shape error both ways
        assert result[0] == "page"


def test_hot_path_takes_the_documented_pages() -> None:
    """Not just equal: the current shapes really go through the hot path."""
    for page in (THREAD_PAGE, FLAT_PAGE, DETAILS):
        assert mapping.fast_messages(page["messages"], CONV, OWNER) is not None
    keyed = mapping.fast_messages(THREAD_PAGE["messages"], CONV, OWNER)
    assert keyed is not None
    senders = {id(m.sender) for _, _, m in keyed if m.sender.name == "Leonard Esere"}
    assert len(senders) == 1  # one Participant per distinct sender


def test_repeated_sender_with_other_owner_flag_is_not_confused() -> None:
    keyed = mapping.fast_messages(FLAT_PAGE["messages"], CONV, OWNER)
    assert keyed is not None
    expected = mapping.messages(structure(FLAT_PAGE, MessagesPayload, provider="connectsafely"), FLAT_PAGE, CONV, OWNER)
    assert [(*k, k[2].sender.is_self) for k in keyed] == [(*k, k[2].sender.is_self) for k in expected]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"text": 12}, "messages[1].text"),
        ({"sender": "urn:li:fsd_profile:x"}, "messages[1].sender"),
        ({"sender": {**LEO, "name": 3}}, "messages[1].sender.name"),
        ({"attachments": {"type": "image"}}, "messages[1].attachments[0]"),
        ({"reactions": [{"emoji": "👍", "count": "many"}]}, "messages[1].reactions[0].count"),
        ({"sentAt": "yesterday"}, "messages[1].sentAt"),
        ({"messageId": None, "backendMessageUrn": None}, "messages[1].messageId"),
    ],
)
def test_errors_name_the_same_field(change: dict[str, Any], path: str) -> None:
    data = copy.deepcopy(THREAD_PAGE)
    data["messages"][1].update(change)
    result = both_ways(data, TARGETS[0])
    assert result[0] == "error"
    assert result[1] is ResponseShapeError
    assert result[3] == path


def test_coerced_values_give_the_same_page() -> None:
    data = copy.deepcopy(THREAD_PAGE)
    data["messages"][0]["reactions"] = [{"emoji": "👍", "count": 2.0, "viewerReacted": "true"}]
    data["total"] = "9"
    result = both_ways(data, TARGETS[0])
    assert result[0] == "page"


def test_declared_keys_are_the_payload_classes_keys() -> None:
    """fast_messages reads every MessagePayload field, by the key the class declares."""
    assert set(attrs.fields_dict(MessagePayload)) == mapping.FAST_MESSAGE_FIELDS
    for cls in (MessagePayload, PersonPayload, AttachmentPayload, ReactionPayload):
        keys = mapping.vendor_keys(cls)
        document = {key: None for key in keys.values()}
        assert structure(document, cls, provider="t") == cls()
        for name, key in keys.items():  # the key really is the one structure() reads
            if attrs.fields_dict(cls)[name].type in ("str | None", str | None):
                assert getattr(structure({key: "x"}, cls, provider="t"), name) == "x"
    head = {a.name: (a.type, a.metadata) for a in attrs.fields(MessagesHeadPayload)}
    full = {a.name: (a.type, a.metadata) for a in attrs.fields(MessagesPayload) if a.name != "messages"}
    assert head == full


def test_messages_are_built_positionally_in_the_models_field_order() -> None:
    assert mapping._new_message is Message
    fields = iter(attrs.fields(Message))
    for name in mapping._MESSAGE_FIELDS:
        assert next(fields).name == name
    built = mapping._message_by_keyword(*(f"v{i}" for i in range(len(mapping._MESSAGE_FIELDS))))
    assert built == Message(*(f"v{i}" for i in range(len(mapping._MESSAGE_FIELDS))))  # type: ignore[arg-type]


fuzz = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
positions = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"ms": st.integers(min_value=0, max_value=2**45), "seen": st.lists(st.text(max_size=5), max_size=3)},
        optional={"via": st.just("conversations")},
    ),
)


MESSAGE_KEYS = sorted({key for page in (THREAD_PAGE, FLAT_PAGE) for m in page["messages"] for key in m})
SENDER_KEYS = sorted({*LEO, "headline"})
odd_values = st.one_of(
    scalars,
    st.sampled_from([[], {}, [{}], [None], "true", 2.0, "2", [{"emoji": "👍", "count": 1.0}], [{"type": 3}]]),
    json_values,
)


@st.composite
def one_change(draw: st.DrawFn) -> dict[str, Any]:
    """A valid page with one member of one message (or of its sender) changed or dropped."""
    data = copy.deepcopy(draw(st.sampled_from([THREAD_PAGE, FLAT_PAGE])))
    message = draw(st.sampled_from(data["messages"]))
    if isinstance(message.get("sender"), dict) and draw(st.booleans()):
        message = message["sender"]
        key = draw(st.sampled_from(SENDER_KEYS))
    else:
        key = draw(st.sampled_from(MESSAGE_KEYS))
    if draw(st.integers(0, 5)) == 0:
        message.pop(key, None)
    else:
        message[key] = draw(odd_values)
    return data


@fuzz
@given(data=one_change(), target=st.sampled_from(TARGETS))
def test_one_changed_member_gives_the_same_outcome_both_ways(data: Any, target: ConversationTarget) -> None:
    both_ways(data, target)


@fuzz
@given(
    data=st.one_of(mutated(THREAD_PAGE), mutated(FLAT_PAGE), mutated(DETAILS), mutated(FLAT_MESSAGES), scalars),
    target=st.sampled_from(TARGETS),
    limit=st.integers(1, 12),
    position=positions,
    url=st.sampled_from(["", "https://api.connectsafely.ai/linkedin/conversations/x/messages"]),
)
def test_any_answer_gives_the_same_outcome_both_ways(
    data: Any, target: ConversationTarget, limit: int, position: Any, url: str
) -> None:
    both_ways(data, target, limit, position, url)


@given(st.integers(min_value=mapping._MS_FLOOR, max_value=mapping._EXACT_FLOAT_MS - 1))
@example(mapping._MS_FLOOR)
@example(mapping._EXACT_FLOAT_MS - 1)
def test_epoch_ms_fast_path_is_exact(ms: int) -> None:
    """The hot path reads epoch ms below 2**32 s with fromtimestamp(ms / 1000): exactly parse_timestamp()."""
    from datetime import UTC, datetime

    from linkmsg.timestamps import parse_timestamp

    fast = datetime.fromtimestamp(ms / 1000, UTC)
    exact = parse_timestamp(ms)
    assert fast == exact and fast.microsecond == exact.microsecond and fast.tzinfo is exact.tzinfo
