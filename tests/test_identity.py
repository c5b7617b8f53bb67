"""LinkedIn identifiers: every documented spelling parses to one canonical value."""

from __future__ import annotations

import base64
import contextlib
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkmsg.errors import InvalidIdentifier
from linkmsg.identity import (
    ConversationRef,
    MessageRef,
    ProfileRef,
    conversation_urn,
    message_urn,
    parse_conversation_id,
    parse_message_id,
    parse_profile,
    profile_urn,
)

# Example values from the vendor docs (shared/vendors.md).
MAILBOX_ID = "ACoAAATPlQ0Bc8wdg-Iy8wZgEDuSdIVWJiE1Aio"
MAILBOX = f"urn:li:fsd_profile:{MAILBOX_ID}"
THREAD = "2-ODFkYjU4M2ItZDlmYS00YTVjLThlNTQtZjI5YTE4ZWUyZDk5XzEwMA=="
CONVERSATION_URN = f"urn:li:msg_conversation:({MAILBOX},{THREAD})"
SHORT_MESSAGE = "2-MTc2MDc3MzMxMDQyOWI2OTc1NC0xMDA="
SHORT_MESSAGE_URN = f"urn:li:msg_message:({MAILBOX},{SHORT_MESSAGE})"

# A second mailbox whose thread suffix is "_013", not "_100".
MAILBOX2 = "urn:li:fsd_profile:ACoAADxnv0oB_dN-NfpvEBlsVPU_W1omM-Xu24o"
THREAD2 = "2-OTFjNWU3YWMtN2IwNi00ZWUwLWE1YzYtNTg4OGNkMGU2ZGRhXzAxMw=="
LONG_MESSAGES = {
    "2-MTc0NTI3MDAyNTA5MWIzODI1OS0xMDAmOTFjNWU3YWMtN2IwNi00ZWUwLWE1YzYtNTg4OGNkMGU2ZGRhXzAxMw==": 1745270025091,
    "2-MTc0NTI2Nzc3OTM2MmI3NTkxNS0xMDAmOTFjNWU3YWMtN2IwNi00ZWUwLWE1YzYtNTg4OGNkMGU2ZGRhXzAxMw==": 1745267779362,
    "2-MTc0NTI2NjQ5ODY1OWI3NDYxOC0xMDAmOTFjNWU3YWMtN2IwNi00ZWUwLWE1YzYtNTg4OGNkMGU2ZGRhXzAxMw==": 1745266498659,
}
# A third example: message and conversation from the same vendor payload.
MAILBOX3 = "urn:li:fsd_profile:ACoAAFHoUZgB6wGz0HEW1MdqGW45NI4e-JhvGqQ"
THREAD3 = "2-ZDYxZWIyZjUtMDQ5MS00NjJmLWJjY2ItOWFkYWVhZmM4MWFmXzEwMA=="
MESSAGE3 = "2-MTc1MzY5NjE4NzkxMmIyODM2My0xMDAmZDYxZWIyZjUtMDQ5MS00NjJmLWJjY2ItOWFkYWVhZmM4MWFmXzEwMA=="


# ---------------------------------------------------------------- conversations


@pytest.mark.parametrize(
    "value",
    [
        CONVERSATION_URN,
        f"urn:li:messagingThread:{THREAD}",
        THREAD,
        f"https://www.linkedin.com/messaging/thread/{THREAD}/",
        f"https://www.linkedin.com/messaging/thread/{THREAD}",
        f"www.linkedin.com/messaging/thread/{THREAD}/?foo=bar",
        f"  {THREAD}\n",
        quote(CONVERSATION_URN, safe=""),
        quote(f"urn:li:messagingThread:{THREAD}", safe=""),
        f"urn:li:salesNav_thread:{THREAD}",
    ],
)
def test_every_conversation_spelling_gives_the_same_thread(value: str) -> None:
    assert parse_conversation_id(value).thread_id == THREAD


def test_only_the_sales_navigator_spelling_marks_a_sales_navigator_thread() -> None:
    assert parse_conversation_id(f"urn:li:salesNav_thread:{THREAD}").sales_nav is True
    assert not any(
        parse_conversation_id(v).sales_nav for v in (CONVERSATION_URN, THREAD, f"urn:li:messagingThread:{THREAD}")
    )


def test_conversation_urn_carries_its_mailbox() -> None:
    ref = parse_conversation_id(CONVERSATION_URN)
    assert ref == ConversationRef(THREAD, MAILBOX)
    assert ref.urn == CONVERSATION_URN


def test_urn_mailbox_wins_over_the_argument() -> None:
    ref = parse_conversation_id(CONVERSATION_URN, mailbox_urn=MAILBOX2)
    assert ref.mailbox_urn == MAILBOX


def test_bare_thread_takes_the_given_mailbox() -> None:
    ref = parse_conversation_id(THREAD, mailbox_urn=MAILBOX)
    assert ref.urn == CONVERSATION_URN
    assert parse_conversation_id(THREAD, mailbox_urn=MAILBOX_ID).urn == CONVERSATION_URN


def test_without_mailbox_there_is_no_urn() -> None:
    assert parse_conversation_id(f"urn:li:messagingThread:{THREAD}").urn is None


def test_spellings_of_one_thread_compare_equal() -> None:
    refs = {
        parse_conversation_id(v, mailbox_urn=MAILBOX)
        for v in (CONVERSATION_URN, THREAD, f"urn:li:messagingThread:{THREAD}")
    }
    assert refs == {ConversationRef(THREAD, MAILBOX)}


@pytest.mark.parametrize("message_id", sorted(LONG_MESSAGES))
def test_long_message_ids_name_their_conversation(message_id: str) -> None:
    expected = ConversationRef(THREAD2, MAILBOX2)
    assert parse_conversation_id(f"urn:li:msg_message:({MAILBOX2},{message_id})") == expected
    assert parse_conversation_id(f"urn:li:messagingMessage:{message_id}").thread_id == THREAD2
    assert parse_conversation_id(message_id, mailbox_urn=MAILBOX2) == expected


def test_message_and_conversation_from_one_payload_agree() -> None:
    conversation = parse_conversation_id(f"urn:li:msg_conversation:({MAILBOX3},{THREAD3})")
    via_message = parse_conversation_id(f"urn:li:msg_message:({MAILBOX3},{MESSAGE3})")
    assert via_message == conversation


def test_legacy_conversation_urn() -> None:
    assert parse_conversation_id("urn:li:conversation:123456789").thread_id == "123456789"


def test_conversation_urn_builder() -> None:
    assert conversation_urn(MAILBOX, THREAD) == CONVERSATION_URN
    assert conversation_urn(MAILBOX_ID, THREAD) == CONVERSATION_URN
    with pytest.raises(InvalidIdentifier):
        conversation_urn("not a mailbox", THREAD)
    with pytest.raises(InvalidIdentifier):
        conversation_urn(MAILBOX, "2-abc)")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "xyz",
        "urn:li:example:123456",
        "conv_abcdef123456",
        "urn:li:conversation:abc",
        "urn:li:msg_conversation:(urn:li:fsd_profile:ACoAA...,2-MDZi)",
        "urn:li:messagingThread:",
        "2-OTQwMTJlODEt...",
        "https://www.example.com/messaging/thread/2-abc/",
        f"https://www.linkedin.com/in/{THREAD}",
        # A short message id does not say which conversation it belongs to.
        SHORT_MESSAGE,
        SHORT_MESSAGE_URN,
        f"urn:li:messagingMessage:{SHORT_MESSAGE}",
    ],
)
def test_bad_conversation_ids_are_rejected(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="expected a conversation id such as"):
        parse_conversation_id(value)


def test_rejection_quotes_the_input_and_the_accepted_forms() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_conversation_id("xyz")
    message = str(info.value)
    assert "'urn:li:msg_conversation:(urn:li:fsd_profile:ACoAA…,2-…)'" in message
    assert "'urn:li:messagingThread:2-…'" in message
    assert message.endswith("got 'xyz'")


def test_rejection_of_a_huge_input_is_truncated() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_conversation_id("x" * 10_000)
    assert len(str(info.value)) < 400


def test_bad_mailbox_argument_is_rejected() -> None:
    with pytest.raises(InvalidIdentifier, match="member id"):
        parse_conversation_id(THREAD, mailbox_urn="someone")


def test_invalid_identifier_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_conversation_id("nope")


# --------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    "value",
    [
        SHORT_MESSAGE_URN,
        f"urn:li:messagingMessage:{SHORT_MESSAGE}",
        SHORT_MESSAGE,
        quote(SHORT_MESSAGE_URN, safe=""),
        f" {SHORT_MESSAGE} ",
    ],
)
def test_every_message_spelling_gives_the_same_id(value: str) -> None:
    ref = parse_message_id(value)
    assert ref.message_id == SHORT_MESSAGE
    assert ref.sent_at_ms == 1760773310429
    assert ref.thread_id is None


def test_message_urn_round_trip() -> None:
    ref = parse_message_id(SHORT_MESSAGE_URN)
    assert ref == MessageRef(SHORT_MESSAGE, MAILBOX)
    assert ref.urn == SHORT_MESSAGE_URN
    assert message_urn(MAILBOX, SHORT_MESSAGE) == SHORT_MESSAGE_URN
    assert parse_message_id(SHORT_MESSAGE, mailbox_urn=MAILBOX).urn == SHORT_MESSAGE_URN
    assert parse_message_id(SHORT_MESSAGE).urn is None


@pytest.mark.parametrize(("message_id", "sent_at_ms"), sorted(LONG_MESSAGES.items()))
def test_long_message_ids_decode_time_and_thread(message_id: str, sent_at_ms: int) -> None:
    ref = parse_message_id(f"urn:li:msg_message:({MAILBOX2},{message_id})")
    assert ref.sent_at_ms == sent_at_ms
    assert ref.thread_id == THREAD2
    assert ref.mailbox_urn == MAILBOX2


def test_message_time_is_close_to_the_vendors_delivery_time() -> None:
    # The send response carrying MESSAGE3 reported deliveredAt 1753696188256.
    ref = parse_message_id(MESSAGE3)
    assert ref.sent_at_ms == 1753696187912
    assert ref.sent_at_ms is not None and abs(ref.sent_at_ms - 1753696188256) < 1000
    assert ref.thread_id == THREAD3


def test_truncated_long_message_id_keeps_its_time() -> None:
    ref = parse_message_id("2-MTc4NTIzNjk0MzI5OGI1ODI2Ni0xMDAm")
    assert ref.sent_at_ms == 1785236943298
    assert ref.thread_id is None


def test_opaque_message_ids_have_no_time() -> None:
    ref = parse_message_id("urn:li:messagingMessage:abc123")
    assert ref.message_id == "abc123"
    assert ref.sent_at_ms is None
    assert ref.thread_id is None


def test_legacy_message_urn() -> None:
    assert parse_message_id("urn:li:message:123").message_id == "123"


@pytest.mark.parametrize(
    "value",
    ["", "xyz", THREAD, CONVERSATION_URN, "urn:li:message:", "urn:li:msg_message:(x,2-a)", "2-a b"],
)
def test_bad_message_ids_are_rejected(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="expected a message id such as"):
        parse_message_id(value)


def test_message_urn_builder_rejects_bad_parts() -> None:
    with pytest.raises(InvalidIdentifier):
        message_urn("", SHORT_MESSAGE)
    with pytest.raises(InvalidIdentifier):
        message_urn(MAILBOX, "")


# --------------------------------------------------------------------- profiles

SLUG = "alés-préw-aa0262324"
SLUG_URL = "https://www.linkedin.com/in/al%C3%A9s-pr%C3%A9w-aa0262324"
SALES_ID = "ACwAAAbcdEFGh1234_xyz-9"


@pytest.mark.parametrize(
    "value",
    [
        MAILBOX,
        MAILBOX_ID,
        f"https://www.linkedin.com/in/{MAILBOX_ID}",
        f"https://www.linkedin.com/in/{MAILBOX_ID}/",
        f"linkedin.com/in/{MAILBOX_ID}",
        quote(MAILBOX, safe=""),
    ],
)
def test_member_id_spellings(value: str) -> None:
    ref = parse_profile(value)
    assert ref == ProfileRef(MAILBOX, MAILBOX_ID, None)
    assert ref.key == MAILBOX
    assert ref.url == f"https://www.linkedin.com/in/{MAILBOX_ID}"


def test_member_id_with_underscores() -> None:
    ident = "ACoAADxnv0oB_dN-NfpvEBlsVPU_W1omM-Xu24o"
    assert parse_profile(f"https://www.linkedin.com/in/{ident}").urn == f"urn:li:fsd_profile:{ident}"


@pytest.mark.parametrize(
    "value",
    [
        SLUG_URL + "/",
        SLUG_URL,
        "http://www.linkedin.com/in/al%C3%A9s-pr%C3%A9w-aa0262324/",
        "fr.linkedin.com/in/al%C3%A9s-pr%C3%A9w-aa0262324?trk=abc",
        "https://linkedin.com/in/al%c3%a9s-pr%c3%a9w-aa0262324/#x",
        f"https://www.linkedin.com/in/{SLUG}/",
        SLUG,
    ],
)
def test_vanity_spellings(value: str) -> None:
    ref = parse_profile(value)
    assert ref == ProfileRef(None, None, SLUG)
    assert ref.key == SLUG
    assert ref.url == SLUG_URL


@pytest.mark.parametrize(
    ("value", "slug"),
    [
        ("https://www.linkedin.com/in/michaeltoddbell", "michaeltoddbell"),
        ("https://www.linkedin.com/in/johndoe/", "johndoe"),
        ("https://www.linkedin.com/in/jane-doe-42", "jane-doe-42"),
        ("https://www.linkedin.com/in/john-smith-99/details/experience/", "john-smith-99"),
        ("john-doe-123", "john-doe-123"),
    ],
)
def test_vendor_profile_urls(value: str, slug: str) -> None:
    ref = parse_profile(value)
    assert ref.public_id == slug
    assert ref.url == f"https://www.linkedin.com/in/{slug}"


@pytest.mark.parametrize(
    "value",
    [
        SALES_ID,
        f"https://www.linkedin.com/sales/lead/{SALES_ID}",
        f"https://www.linkedin.com/sales/lead/{SALES_ID},NAME_SEARCH,JUf-",
        f"urn:li:fs_salesProfile:({SALES_ID},NAME_SEARCH,JUf-)",
        f"https://www.linkedin.com/in/{SALES_ID}",
    ],
)
def test_sales_navigator_ids(value: str) -> None:
    ref = parse_profile(value)
    assert ref.profile_id == SALES_ID
    # Sales Navigator ids have no fsd_profile URN; the id itself is the key.
    assert ref.urn is None
    assert ref.key == SALES_ID
    assert ref.url == f"https://www.linkedin.com/in/{SALES_ID}"


def test_profile_urn_builder() -> None:
    assert profile_urn(MAILBOX_ID) == MAILBOX
    assert profile_urn(MAILBOX) == MAILBOX
    with pytest.raises(InvalidIdentifier, match="Sales Navigator"):
        profile_urn(SALES_ID)
    with pytest.raises(InvalidIdentifier):
        profile_urn("john-doe")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "  ",
        "ab",
        "x" * 101,
        "---",
        "example_value",
        "john doe",
        "https://www.linkedin.com/company/linkedin/",
        "https://www.linkedin.com/in/",
        "https://www.example.com/in/john-doe",
        "https://notlinkedin.com/in/john-doe",
        "https://www.linkedin.com/sales/lead/john-doe",
        "urn:li:fsd_profile:",
        "urn:li:ts_profile:123",
        "urn:li:fs_miniProfile:ACoAAA",
        "urn:li:example:123456",
        "mailto:john@example.com",
    ],
)
def test_bad_profiles_are_rejected(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="expected a profile such as"):
        parse_profile(value)


def test_profile_ref_needs_some_id() -> None:
    with pytest.raises(InvalidIdentifier):
        ProfileRef(None, None, None)


# ------------------------------------------------------------------- properties


@given(st.text(max_size=300))
def test_conversation_parser_only_raises_invalid_identifier(value: str) -> None:
    try:
        ref = parse_conversation_id(value)
    except InvalidIdentifier:
        return
    assert ref.thread_id


@given(st.text(max_size=300))
def test_message_parser_only_raises_invalid_identifier(value: str) -> None:
    try:
        ref = parse_message_id(value)
    except InvalidIdentifier:
        return
    assert ref.message_id


@given(st.text(max_size=300))
def test_profile_parser_only_raises_invalid_identifier(value: str) -> None:
    try:
        ref = parse_profile(value)
    except InvalidIdentifier:
        return
    assert ref.key


@given(st.from_regex(r"urn:li:(msg_conversation|messagingThread|fsd_profile):[ -~]{0,80}", fullmatch=True))
def test_urn_like_text_only_raises_invalid_identifier(value: str) -> None:
    with contextlib.suppress(InvalidIdentifier):
        parse_conversation_id(value)
    with contextlib.suppress(InvalidIdentifier):
        parse_profile(value)


@given(st.uuids(), st.integers(min_value=0, max_value=999))
def test_any_thread_survives_every_spelling(uuid: object, suffix: int) -> None:
    thread = "2-" + base64.b64encode(f"{uuid}_{suffix:03d}".encode()).decode()
    message = "2-" + base64.b64encode(f"1760773310429b1-100&{uuid}_{suffix:03d}".encode()).decode()
    spellings = [
        thread,
        f"urn:li:messagingThread:{thread}",
        f"urn:li:msg_conversation:({MAILBOX},{thread})",
        f"https://www.linkedin.com/messaging/thread/{thread}/",
        f"urn:li:msg_message:({MAILBOX},{message})",
    ]
    assert {parse_conversation_id(s).thread_id for s in spellings} == {thread}


@given(st.text(alphabet=st.characters(categories=["L", "Nd"]) | st.just("-"), min_size=3, max_size=100))
def test_any_slug_round_trips_through_its_url(slug: str) -> None:
    if not any(ch.isalnum() for ch in slug):
        return
    ref = parse_profile(slug)
    if ref.public_id is None:  # looks like a member id (ACoAA…)
        return
    assert parse_profile(ref.url) == ref
