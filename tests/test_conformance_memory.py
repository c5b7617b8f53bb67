"""The memory provider passes the same conformance suite as every vendor plugin."""

from __future__ import annotations

from typing import Any

from linkmsg.memory import Inbox
from linkmsg.testing import ProviderConformance, RecordingEmulator


class TestMemoryConformance(ProviderConformance):
    provider = "memory"
    conversation_fields = ("id", "thread_id", "participants", "unread_count", "last_activity_at", "category")
    message_fields = (
        "id",
        "conversation_id",
        "text",
        "sent_at",
        "sender",
        "outgoing",
        "kind",
        "subject",
        "attachments",
        "reactions",
    )

    def make_emulator(self, inbox: Inbox) -> None:
        return None

    def client_kwargs(self, inbox: Inbox, emulator: RecordingEmulator | None) -> dict[str, Any]:
        return {"inbox": inbox}
