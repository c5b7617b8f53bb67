"""The linkup provider passes the conformance kit against its emulator."""

from __future__ import annotations

from typing import Any, ClassVar

from linkmsg_linkup.emulator import LinkupEmulator

from linkmsg.memory import Inbox
from linkmsg.testing import ProviderConformance

API_KEY = "test-key"
LOGIN_TOKEN = "AQEDAT-conformance-login-token"


class TestLinkupConformance(ProviderConformance):
    provider = "linkup"
    client_settings: ClassVar[dict[str, Any]] = {"api_key": API_KEY, "login_token": LOGIN_TOKEN, "country": "US"}
    conversation_fields = ("id", "thread_id", "unread_count", "last_activity_at", "category")
    # v1 carries a sender only as display name + first/last name (no URN), no subject or attachments.
    message_fields = (
        "id",
        "conversation_id",
        "text",
        "sent_at",
        "sender.name",
        "sender.first_name",
        "sender.last_name",
        "kind",
    )
    required_message_key = "timestamp"

    def make_emulator(self, inbox: Inbox) -> LinkupEmulator:
        return LinkupEmulator(inbox, api_key=API_KEY, login_token=LOGIN_TOKEN)
