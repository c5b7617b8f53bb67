"""linkup-v2 passes the provider conformance kit against its emulator."""

from __future__ import annotations

from typing import Any, ClassVar

from linkmsg_linkup_v2.emulator import LinkupV2Emulator

from linkmsg.memory import Inbox
from linkmsg.testing import ProviderConformance


class TestLinkupV2Conformance(ProviderConformance):
    provider = "linkup-v2"
    client_settings: ClassVar[dict[str, Any]] = {"api_key": "test-key", "account_id": "acc_test"}
    conversation_fields = (
        "id",
        "thread_id",
        "unread_count",
        "last_activity_at",
        "category",
        "latest_message.text",
        "latest_message.sent_at",
        "latest_message.outgoing",
        "latest_message.sender.name",
    )
    message_fields = (
        "id",
        "conversation_id",
        "text",
        "sent_at",
        "sender.id",
        "sender.urn",
        "sender.name",
        "sender.first_name",
        "sender.last_name",
        "sender.profile_url",
        "sender.is_self",
        "outgoing",
        "kind",
        "subject",
        "attachments",
    )
    required_message_key = "timestamp"

    def make_emulator(self, inbox: Inbox) -> LinkupV2Emulator:
        return LinkupV2Emulator(inbox, api_key="test-key", account_id="acc_test")
