"""The connectsafely provider passes the conformance kit against its emulator,
in each documented generation of the list and history endpoints."""

from __future__ import annotations

from typing import Any, ClassVar

from linkmsg_connectsafely.emulator import ConnectSafelyEmulator

from linkmsg.memory import Inbox
from linkmsg.testing import ProviderConformance

API_KEY = "test-key"


class TestConnectSafelyConformance(ProviderConformance):
    """Current documented shapes: recent-messages (Messaging page) and conversation-details (seed page)."""

    provider = "connectsafely"
    client_settings: ClassVar[dict[str, Any]] = {"api_key": API_KEY}
    conversation_fields = (
        "id",
        "thread_id",
        "unread_count",
        "last_activity_at",
        "latest_message.text",
        "latest_message.sent_at",
    )
    message_fields = (
        "id",
        "conversation_id",
        "text",
        "sent_at",
        "sender.urn",
        "sender.name",
        "sender.profile_url",
        "sender.is_self",
        "outgoing",
        "subject",
        "reactions",
    )
    required_message_key = "sentAt"
    list_shape: ClassVar[str] = "messaging"
    history_shape: ClassVar[str] = "messaging"

    def make_emulator(self, inbox: Inbox) -> ConnectSafelyEmulator:
        return ConnectSafelyEmulator(
            inbox, api_key=API_KEY, list_shape=self.list_shape, history_shape=self.history_shape
        )


class TestConnectSafelyLegacyConformance(TestConnectSafelyConformance):
    """Legacy pages: messagingThread conversation ids; conversationDetails with ISO createdAt and URN senders."""

    message_fields = ("id", "conversation_id", "text", "sent_at", "sender.urn", "sender.is_self", "outgoing")
    required_message_key = "createdAt"
    list_shape = "legacy"
    history_shape = "legacy"


class TestConnectSafelyRedirectConformance(TestConnectSafelyConformance):
    """The vendor's 307s: /linkedin/conversations, and /linkedin/conversations/{urn}/messages (flat senders)."""

    message_fields = ("id", "conversation_id", "text", "sent_at", "sender.urn", "sender.name", "outgoing")
    list_shape = "redirect"
    history_shape = "redirect"
