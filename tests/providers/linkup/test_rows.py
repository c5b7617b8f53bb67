"""The row-based history mapping (v1 and v2) equals mapping the structured payload objects."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from linkmsg_linkup.common import LinkupSenderInfo
from linkmsg_linkup.mapping import SenderHints, read_history
from linkmsg_linkup_v2.mapping import HISTORY_FIELDS, messages_from_history, messages_from_rows
from linkmsg_linkup_v2.payloads import HistoryResponse, V2Attachment, V2SenderInfo

from linkmsg.errors import ResponseShapeError
from linkmsg.payload import structure, structure_rows
from linkmsg.timestamps import parse_timestamp

MAILBOX = "urn:li:fsd_profile:ACoAAOwnErP8IX4EA4Q9OM4894ZJOJ7YAEKCTBR"


def test_nested_row_layouts_the_mappings_unpack() -> None:
    names = [a.name for a in attrs.fields(LinkupSenderInfo)]
    assert names == ["first_name", "last_name", "profile_url", "is_me"]
    names = [a.name for a in attrs.fields(V2SenderInfo)]
    assert names == ["first_name", "last_name", "profile_url", "is_me", "recipient_urn", "name"]
    names = [a.name for a in attrs.fields(V2Attachment)]
    assert names[:3] == ["type", "url", "name"] and names[6] == "download_url"


def _v2_message(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "text": f"m{n}",
        "timestamp": 1_793_155_091_609 - n,
        "sender": "Aïcha Okafor" if n % 2 else "Demo Owner",
        "sender_info": {"first_name": "A", "last_name": "O", "profile_url": f"https://linkedin.com/in/p{n % 2}"},
        "message_type": "TEXT",
        "entity_urn": f"urn:li:msg_message:({MAILBOX},2-{n})",
        **extra,
    }


V2_VARIANTS = [
    {},
    {"timestamp": None, "time": 1_793_155_091_000},
    {"timestamp": 1_793_155_091},  # seconds
    {"timestamp": "2026-03-24T12:00:00Z"},
    {"message_type": "inmail", "subject": "Hi"},
    {"attachments": [{"type": "image", "download_url": "https://x/y", "name": "a.png"}, {"url": "https://u"}]},
    {"sender": {"name": "Recruiter Person", "profile_url": "https://www.linkedin.com/in/rp"}},
    {"sender": None, "sender_info": {"name": "Mail Person", "is_me": True}},
    {"sender_info": None},
    {"sender_info": {"first_name": "A", "is_me": "true"}},  # coerced: the converter path
]


@pytest.mark.parametrize("variant", V2_VARIANTS)
def test_v2_rows_equal_objects(variant: dict[str, Any]) -> None:
    raws = [_v2_message(n) for n in range(4)] + [_v2_message(4, **variant)]
    doc = {"data": {"messages": raws, "next_cursor": "1"}, "metadata": {"credits_consumed": 1}}
    parsed, rows = structure_rows(doc, HistoryResponse, ("data", "messages"), HISTORY_FIELDS, provider="linkup-v2")
    via_rows = messages_from_rows(rows, raws, conversation_id="c", mailbox_urn=MAILBOX)
    objects = structure(copy.deepcopy(doc), HistoryResponse, provider="linkup-v2")
    via_objects = messages_from_history(objects.data.messages, raws, conversation_id="c", mailbox_urn=MAILBOX)
    assert via_rows == via_objects
    assert [m.raw for _, m in via_rows] == raws
    assert parsed.data.next_cursor == "1" and parsed.data.messages == []


def test_v2_bad_time_names_the_message() -> None:
    raws = [_v2_message(0), _v2_message(1, timestamp=True)]
    doc = {"data": {"messages": raws}}
    _, rows = structure_rows(doc, HistoryResponse, ("data", "messages"), HISTORY_FIELDS, provider="linkup-v2")
    with pytest.raises(ResponseShapeError) as info:
        messages_from_rows(rows, raws, conversation_id="c", mailbox_urn=None)
    assert info.value.path == "data.messages[1].timestamp"


def _v1_page() -> dict[str, Any]:
    message = {
        "text": "hi",
        "timestamp": 1_793_155_091_609,
        "sender": "Demo Owner",
        "sender_info": {"first_name": "Demo", "last_name": "Owner"},
        "message_type": "TEXT",
        "entity_urn": "2-abc",
    }
    conversation_id = f"urn:li:msg_conversation:({MAILBOX},2-xyz)"
    return {"status": "success", "data": {"conversation_id": conversation_id, "messages": [message]}}


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"timestamp": "1793155091609"},
        {"timestamp": 1_793_155_091},
        {"sender_info": None},
        {"sender_info": {"first_name": "Demo", "is_me": 1}},
        {"message_type": None, "text": None},
    ],
)
def test_v1_rows_equal_slow_path(variant: dict[str, Any]) -> None:
    page = _v1_page()
    page["data"]["messages"] = [{**page["data"]["messages"][0], "entity_urn": f"2-{n}"} for n in range(3)]
    page["data"]["messages"].append({**page["data"]["messages"][0], **variant})
    hints = SenderHints("Demo Owner", frozenset({"Other"}))
    fast = read_history(page, conversation_id="c", hints=hints)
    # The same page, forced through structure(): a float where an int is allowed is coerced there.
    slow_page = json.loads(json.dumps(page))
    slow_page["data"]["total_results"] = 4.0
    slow = read_history(slow_page, conversation_id="c", hints=hints)
    assert fast.messages == slow.messages
    assert fast.stamps == slow.stamps
    assert [m.raw for m in fast.messages] == page["data"]["messages"]
    assert fast.messages[0].id == f"urn:li:msg_message:({MAILBOX},2-0)"


@given(st.integers(min_value=100_000_000_000, max_value=2**32 * 1000 - 1))
@example(100_000_000_000)
@example(2**32 * 1000 - 1)
@example(1_793_534_400_001)
def test_epoch_ms_fast_path_is_exact(ms: int) -> None:
    """The history mappings turn epoch ms below 2**32 s into datetimes with fromtimestamp(ms / 1000)."""
    from linkmsg_linkup.mapping import _EXACT_FLOAT_MS as v1_limit
    from linkmsg_linkup_v2.mapping import _EXACT_FLOAT_MS as v2_limit

    assert v1_limit == v2_limit == 2**32 * 1000
    exact = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    fast = datetime.fromtimestamp(ms / 1000, UTC)
    assert fast == exact == parse_timestamp(ms)
    assert fast.tzinfo is exact.tzinfo and fast.microsecond == exact.microsecond
