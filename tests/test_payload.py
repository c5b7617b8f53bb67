"""linkmsg.payload: shape-error paths name the vendor's JSON keys."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from linkmsg.errors import ResponseShapeError
from linkmsg.payload import field, structure


@attrs.frozen(slots=True)
class _Sender:
    display_name: str | None = field("displayName", default=None)


@attrs.frozen(slots=True)
class _Message:
    sent_at: int = field("sentAt")
    sender: _Sender | None = None
    message_text: str | None = field("text", default=None)


@attrs.frozen(slots=True)
class _Data:
    messages: list[_Message] = field("messageList")
    next_cursor: str | None = field("nextCursor", default=None)


@attrs.frozen(slots=True)
class _Page:
    data: _Data


def _good(n: int) -> dict[str, Any]:
    return {"sentAt": 1_777_000_000_000 + n, "sender": {"displayName": "A"}, "text": "hi"}


def _path(doc: Any, path: str = "") -> str:
    with pytest.raises(ResponseShapeError) as info:
        structure(doc, _Page, provider="test", path=path)
    assert info.value.path in str(info.value)
    return info.value.path


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ({"sentAt": "soon"}, "data.messageList[3].sentAt"),
        ({"sentAt": None}, "data.messageList[3].sentAt"),
        ({"text": 12}, "data.messageList[3].text"),
        ({"sender": {"displayName": 7}}, "data.messageList[3].sender.displayName"),
        ({"sender": "A"}, "data.messageList[3].sender"),
    ],
)
def test_path_uses_vendor_keys(bad: dict[str, Any], where: str) -> None:
    messages = [_good(n) for n in range(5)]
    messages[3] = {**messages[3], **bad}
    assert _path({"data": {"messageList": messages}}) == where


def test_missing_required_key_is_named_by_vendor_key() -> None:
    messages = [_good(n) for n in range(3)]
    del messages[1]["sentAt"]
    assert _path({"data": {"messageList": messages}}) == "data.messageList[1].sentAt"
    assert _path({"data": {"nextCursor": "x"}}) == "data.messageList"


def test_path_prefix_and_plain_fields() -> None:
    assert _path({"data": {"messageList": [], "nextCursor": 3}}, "body") == "body.data.nextCursor"
    assert _path({"data": "nope"}) == "data"
    assert _path([]) == "$"


def test_good_document_structures_with_renames() -> None:
    page = structure({"data": {"messageList": [_good(1)], "nextCursor": "c"}}, _Page, provider="test")
    assert page.data.messages[0] == _Message(1_777_000_000_001, _Sender("A"), "hi")
    assert page.data.next_cursor == "c"
