"""Every parser and mapper raises nothing but LinkmsgError, whatever JSON arrives.

Arbitrary JSON, and the documented examples with parts replaced, dropped or
retyped, are fed to the provider's operations (driven without a network) and
to its error mapping.
"""

from __future__ import annotations

import copy
from collections.abc import Generator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linkmsg_connectsafely.provider import ConnectSafelyProvider, ConnectSafelySettings

from linkmsg.errors import LinkmsgError, ProviderError
from linkmsg.identity import parse_conversation_id, parse_profile
from linkmsg.model import Conversation, Participant
from linkmsg.provider import ConversationTarget, Request, Response, SendRequest

OWNER = "urn:li:fsd_profile:ACoAABpGQcMBI08myTal7qDJ5zb9lJiM24nFjJI"
THREAD = "2-YTlkMzliMTAtMjA4Zi00ODc4LTgxZDgtZTI4ZDY0Zjg1YTE4XzEwMA=="
CONV = f"urn:li:msg_conversation:({OWNER},{THREAD})"
LEONARD = "ACoAACr-hewBS7g6tYN16g77Gx5Cuvm0hJPUfNM"
KEYS = [
    "success",
    "error",
    "code",
    "message",
    "holdUntil",
    "issues",
    "path",
    "name",
    "profileUrn",
    "conversationUrn",
    "conversationId",
    "backendConversationUrn",
    "conversationUrl",
    "conversations",
    "participants",
    "profileId",
    "profileUrl",
    "participantUrn",
    "unreadCount",
    "lastActivityAt",
    "latestMessage",
    "text",
    "sentAt",
    "senderName",
    "hasAttachment",
    "nextCursor",
    "hasMore",
    "total",
    "messages",
    "messageId",
    "backendMessageUrn",
    "messageUrn",
    "subject",
    "sender",
    "senderProfileId",
    "isSentByOwner",
    "attachments",
    "reactions",
    "emoji",
    "count",
    "viewerReacted",
    "type",
    "url",
    "pagination",
    "hasMoreBefore",
    "conversationDetails",
    "body",
    "createdAt",
    "cursor",
]
URLS = [
    "",
    "https://api.connectsafely.ai/linkedin/messaging/recent-messages",
    "https://api.connectsafely.ai/linkedin/conversations",
    "https://api.connectsafely.ai/linkedin/messaging/conversation-details",
    "https://api.connectsafely.ai/linkedin/conversations/x/messages",
    "https://api.connectsafely.ai/linkedin/messaging/send-group-with-typing",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from([CONV, THREAD, OWNER, LEONARD, "john-doe-123", "123456", "example_value", "2026-04-27T15:42:11Z"])
)
KEY_NAMES = st.sampled_from(KEYS) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY_NAMES, inner, max_size=4),
    max_leaves=10,
)
_DROP = object()


def mutated(example: Any) -> st.SearchStrategy[Any]:
    """The example with any of its parts kept, changed recursively, replaced by arbitrary JSON, or dropped."""
    if isinstance(example, dict):
        parts = {key: st.one_of(mutated(value), json_values, st.just(_DROP)) for key, value in example.items()}
        return st.fixed_dictionaries(parts).map(lambda d: {k: v for k, v in d.items() if v is not _DROP})
    if isinstance(example, list):
        if not example:
            return st.lists(json_values, max_size=3)
        return st.lists(st.one_of([mutated(item) for item in example]), max_size=4)
    return st.one_of(st.just(example), scalars)


SENDER = {
    "profileId": LEONARD,
    "name": "Leonard Esere",
    "profileUrl": f"https://www.linkedin.com/in/{LEONARD}",
    "profilePicture": "https://media.licdn.com/x",
    "participantUrn": f"urn:li:msg_messagingParticipant:urn:li:fsd_profile:{LEONARD}",
}
DETAILS = {
    "success": True,
    "profileUrn": OWNER,
    "conversationUrn": CONV,
    "total": 11,
    "messages": [
        {
            "messageId": f"urn:li:msg_message:({OWNER},2-MTc2MzM3ODA2Mjg4MWI0MTM0My0xMDA=)",
            "backendMessageUrn": "urn:li:messagingMessage:2-MTc2MzM3ODA2Mjg4MWI0MTM0My0xMDA=",
            "text": "No problem.",
            "subject": None,
            "sentAt": 1763378062881,
            "sender": SENDER,
            "attachments": [{"type": "image", "url": "https://www.linkedin.com/dms/prv/image"}],
            "reactions": [{"emoji": "👍", "count": 1, "viewerReacted": False}],
            "hasAttachment": True,
        }
    ],
    "participants": [{**SENDER, "headline": "Founder"}],
    "pagination": {"firstMessageAt": 1763350991696, "lastMessageAt": 1763794357096, "hasMoreBefore": True},
}
LEGACY_DETAILS = {
    "success": True,
    "conversationUrn": CONV,
    "conversationDetails": {
        "messages": [
            {
                "messageUrn": "urn:li:message:2-MTc2MzM3ODA2Mjg4MWI0MTM0My0xMDA=",
                "body": "Hello!",
                "sender": OWNER,
                "createdAt": "2024-01-15T10:30:00Z",
            }
        ]
    },
}
FLAT_MESSAGES = {
    "success": True,
    "messages": [
        {
            "messageUrn": "Hello! I would like to connect with you.",
            "text": "example_value",
            "sentAt": 0,
            "senderProfileId": "john-doe-123",
            "senderName": "example_value",
            "senderPhoto": "example_value",
            "isSentByOwner": False,
            "hasAttachment": False,
            "attachments": [],
        }
    ],
    "participants": [{"profileId": "john-doe-123", "name": "example_value"}],
    "hasMore": True,
    "cursor": "example_value",
}
RECENT = {
    "success": True,
    "accountId": "507f1f77bcf86cd799439011",
    "profileUrn": OWNER,
    "total": 3,
    "nextCursor": "xqS2pdVm4vDq0NZmLnVybjpsaTpmYWJyaWM6cHJvZC1sb3IxAA==",
    "conversations": [
        {
            "conversationId": f"urn:li:messagingThread:{THREAD}",
            "conversationUrn": CONV,
            "backendConversationUrn": f"urn:li:messagingThread:{THREAD}",
            "conversationUrl": f"https://www.linkedin.com/messaging/thread/{THREAD}/",
            "participants": [
                {"profileId": "123456", "name": "John Doe", "headline": "Engineer", "profilePicture": "x"}
            ],
            "unreadCount": 2,
            "lastActivityAt": 1704067200000,
            "latestMessage": {
                "text": "Hello",
                "sentAt": 1704067200000,
                "senderName": "John Doe",
                "hasAttachment": False,
            },
        }
    ],
}
CONVERSATIONS = {
    "success": True,
    "conversations": [
        {
            "conversationUrn": "urn:li:example:123456",
            "conversationId": "conv_abcdef123456",
            "lastActivityAt": "example_value",
            "unreadCount": 25,
            "participants": [],
            "latestMessage": {},
            "source": "example_value",
            "salesNavThreadId": "12345",
        }
    ],
    "accounts": [{"id": "12345", "name": "example_value"}],
    "nextCursor": "example_value",
    "hasMore": True,
    "fromCache": True,
}
RATE_TEXT = "Rate limit exceeded for CONNECT: 90/90 used. Resets at 2026-04-28T00:00:00Z"
ERRORS = [
    {"success": False, "error": "human-readable message"},
    {"error": "Unauthorized - Invalid credentials"},
    {
        "success": False,
        "error": {
            "name": "ZodError",
            "issues": [{"code": "invalid_type", "path": ["profileId"], "message": "Required"}],
        },
    },
    {"success": False, "code": "validation_error", "message": "Explanation of what went wrong"},
    {"success": False, "error": RATE_TEXT, "holdUntil": "2026-04-27T15:42:11Z"},
]
SEND_OK = {"success": True, "message": "Message sent", "recipientProfileUrn": OWNER, "typingIndicatorSent": True}

bodies = st.one_of(
    json_values,
    mutated(DETAILS),
    mutated(LEGACY_DETAILS),
    mutated(FLAT_MESSAGES),
    mutated(RECENT),
    mutated(CONVERSATIONS),
    *[mutated(e) for e in ERRORS],
    mutated(SEND_OK),
)
responses = st.builds(
    Response,
    status=st.sampled_from([200, 200, 200, 201, 307, 400, 401, 403, 404, 418, 429, 500, 503]),
    headers=st.sampled_from([{}, {"retry-after": "120"}, {"x-ratelimit-action": "MESSAGE"}, {"retry-after": "soon"}]),
    data=bodies,
    url=st.sampled_from(URLS),
)
positions = st.one_of(
    st.none(),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.text(max_size=10),
    st.fixed_dictionaries(
        {"ms": st.integers(min_value=0, max_value=2**45), "seen": st.lists(st.text(max_size=5), max_size=3)},
        optional={"via": st.sampled_from(["conversations", "details", 3])},
    ),
    json_values,
)
targets = st.sampled_from(
    [
        ConversationTarget(parse_conversation_id(CONV)),
        ConversationTarget(parse_conversation_id(THREAD)),
        ConversationTarget(
            parse_conversation_id(CONV),
            Conversation(id=CONV, thread_id=THREAD, participants=(Participant(urn=f"urn:li:fsd_profile:{LEONARD}"),)),
        ),
    ]
)
LIMITS = st.integers(1, 100)
fuzz = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def provider() -> ConnectSafelyProvider:
    return ConnectSafelyProvider(ConnectSafelySettings(api_key="test-key-properties"))


def drive(operation: Generator[Request, Response, Any], answers: list[Response]) -> None:
    """Run an operation against canned answers; only LinkmsgError may escape."""
    try:
        next(operation)
        for answer in answers * 4:
            operation.send(answer)
    except StopIteration:
        return
    except LinkmsgError:
        return


@fuzz
@given(answer=responses)
def test_error_mapping(answer: Response) -> None:
    try:
        error = provider().error_for(answer)
    except LinkmsgError:
        return
    assert error is None or isinstance(error, ProviderError)
    if error is not None:
        assert "test-key-properties" not in str(error)


@fuzz
@given(
    answers=st.lists(responses, min_size=1, max_size=2),
    limit=st.integers(1, 100),
    unread=st.booleans(),
    keywords=st.none() | st.text(max_size=5),
    position=positions,
)
def test_list_conversations(
    answers: list[Response], limit: int, unread: bool, keywords: str | None, position: Any
) -> None:
    op = provider().list_conversations(limit=limit, unread=unread, keywords=keywords, position=position, options={})
    drive(op, answers)


@fuzz
@given(answers=st.lists(responses, min_size=1, max_size=2), target=targets, limit=LIMITS, position=positions)
def test_list_messages(answers: list[Response], target: ConversationTarget, limit: int, position: Any) -> None:
    drive(provider().list_messages(target, limit=limit, position=copy.deepcopy(position)), answers)


@fuzz
@given(
    answers=st.lists(responses, min_size=1, max_size=2),
    target=st.none() | targets,
    to=st.none() | st.sampled_from(["john-doe-123", f"urn:li:fsd_profile:{LEONARD}", "ACwAAAbcdefgh"]),
    typing=st.booleans(),
    inmail=st.booleans(),
)
def test_send_message(
    answers: list[Response], target: ConversationTarget | None, to: str | None, typing: bool, inmail: bool
) -> None:
    if target is None and to is None:
        to = "john-doe-123"
    request = SendRequest(
        text="hi", to=None if to is None else parse_profile(to), conversation=target, typing=typing, inmail=inmail
    )
    drive(provider().send_message(request), answers)
