"""One inbox, read through every vendor: the same ids, texts and times.

The issue's "done when" for switching vendors: a thread read through
ConnectSafely, LinkupAPI v1 and LinkupAPI v2 has the same conversation id, and
its messages the same ids, texts and send times. ONE canonical demo inbox is
rendered by each installed provider's emulator (its vendor's documented JSON)
and read back through ``linkmsg.Client`` over ``httpx.MockTransport``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

import linkmsg
from linkmsg.memory import Inbox, demo_inbox

BASE_URL = "https://vendor.invalid"
API_KEY = "test-key-cross-vendor"

#: (provider name, emulator module, emulator class, Client settings, emulator settings)
PROVIDERS: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = [
    ("connectsafely", "linkmsg_connectsafely.emulator", "ConnectSafelyEmulator", {}, {}),
    (
        "linkup",
        "linkmsg_linkup.emulator",
        "LinkupEmulator",
        {"login_token": "test-login-token", "country": "US"},
        {"login_token": "test-login-token"},
    ),
    (
        "linkup-v2",
        "linkmsg_linkup_v2.emulator",
        "LinkupV2Emulator",
        {"account_id": "acc_cross"},
        {"account_id": "acc_cross"},
    ),
]

#: What a vendor-independent reading of a mailbox is: per conversation id, its
#: messages' (id, text, sent_at), newest first.
Reading = dict[str, list[tuple[str, str, datetime]]]


@pytest.fixture(scope="module")
def inbox() -> Inbox:
    # 12 threads of 30 messages: groups (thread 4), an InMail thread (2), unread
    # threads, attachments, and two messages sharing a millisecond in each thread.
    return demo_inbox(seed=5, conversations=12, messages_per_conversation=30)


def read_mailbox(
    provider: str, emulator: Callable[[httpx.Request], httpx.Response], settings: dict[str, Any]
) -> Reading:
    reading: Reading = {}
    transport = httpx.MockTransport(emulator)
    with linkmsg.Client(provider, api_key=API_KEY, base_url=BASE_URL, http_transport=transport, **settings) as client:
        for conversation in client.iter_conversations(page_size=5):
            messages = client.iter_messages(conversation, page_size=7)
            reading[conversation.id] = [(m.id, m.text, m.sent_at) for m in messages]
    return reading


@pytest.fixture(scope="module")
def readings(inbox: Inbox) -> dict[str, Reading]:
    found = {}
    for provider, module, cls, client_settings, emulator_settings in PROVIDERS:
        try:
            emulator_class = getattr(importlib.import_module(module), cls)
        except ImportError:
            continue  # not installed yet: the parametrized test below reports the skip
        emulator = emulator_class(inbox, api_key=API_KEY, **emulator_settings)
        found[provider] = read_mailbox(provider, emulator, client_settings)
    if len(found) < 2:
        pytest.skip(f"needs at least two vendor providers installed, found {sorted(found)}")
    return found


def _canonical(inbox: Inbox) -> Reading:
    return {c.id: [(m.id, m.text, m.sent_at) for m in inbox.messages[c.id]] for c in inbox.sorted_conversations()}


@pytest.mark.parametrize(("provider", "module"), [(p[0], p[1]) for p in PROVIDERS])
def test_each_vendor_reads_the_canonical_inbox(
    provider: str, module: str, readings: dict[str, Reading], inbox: Inbox
) -> None:
    pytest.importorskip(module)
    assert readings[provider] == _canonical(inbox)


def test_all_vendors_agree(readings: dict[str, Reading]) -> None:
    names = sorted(readings)
    first = readings[names[0]]
    for name in names[1:]:
        other = readings[name]
        assert list(other) == list(first), f"conversation ids differ: {names[0]} vs {name}"
        for conversation_id, messages in first.items():
            theirs = other[conversation_id]
            assert [m[0] for m in theirs] == [m[0] for m in messages], f"message ids differ in {conversation_id}"
            assert [m[1] for m in theirs] == [m[1] for m in messages], f"texts differ in {conversation_id}"
            assert [m[2] for m in theirs] == [m[2] for m in messages], f"times differ in {conversation_id}"
