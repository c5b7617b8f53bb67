"""linkmsg.payload: shape-error paths name the vendor's JSON keys."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from linkmsg.errors import ResponseShapeError
from linkmsg.payload import as_row, field, structure, structure_rows


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


# ---------------------------------------------------------------- rows


def _doc(messages: list[Any], **extra: Any) -> dict[str, Any]:
    return {"data": {"messageList": messages, **extra}}


def _slow_rows(doc: dict[str, Any], names: tuple[str, ...] | None) -> list[tuple[Any, ...]]:
    page = structure(doc, _Page, provider="test")
    return [as_row(m, names) for m in page.data.messages]


@pytest.mark.parametrize("names", [None, ("message_text", "sender", "sent_at")])
def test_rows_equal_structured_objects(names: tuple[str, ...] | None) -> None:
    doc = _doc([_good(1), {"sentAt": 5}, {"sentAt": 6, "sender": None, "extra": 1}], nextCursor="c")
    page, rows = structure_rows(doc, _Page, ("data", "messages"), names, provider="test")
    assert rows == _slow_rows(doc, names)
    assert page == _Page(_Data([], "c"))
    if names is None:
        assert rows[0] == (1_777_000_000_001, ("A",), "hi")


def test_rows_take_the_converter_path_for_coercions() -> None:
    doc = _doc([_good(1), {"sentAt": "12", "sender": {"displayName": "B"}}])  # "12" is coerced, not fast
    page, rows = structure_rows(doc, _Page, ("data", "messages"), provider="test")
    assert rows == _slow_rows(doc, None)
    assert rows[1] == (12, ("B",), None)
    assert page.data.messages == []


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        (_doc([_good(0), {"sentAt": "soon"}]), "data.messageList[1].sentAt"),
        (_doc([_good(0)], nextCursor=5), "data.nextCursor"),
        ({"data": {"messageList": "x"}}, "data.messageList[0]"),  # as structure() says
        ({"data": []}, "data"),
    ],
)
def test_rows_errors_name_the_same_path(doc: dict[str, Any], where: str) -> None:
    with pytest.raises(ResponseShapeError) as info:
        structure_rows(doc, _Page, ("data", "messages"), provider="test")
    assert info.value.path == where == _path(doc)


def test_rows_reject_a_path_that_is_not_a_list_of_payload_objects() -> None:
    with pytest.raises(TypeError):
        structure_rows(_doc([]), _Page, ("data", "next_cursor"), provider="test")
    with pytest.raises(ValueError, match="no field"):
        structure_rows(_doc([_good(0)]), _Page, ("data", "messages"), ("sentAt",), provider="test")
