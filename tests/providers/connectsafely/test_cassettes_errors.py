"""Every documented ConnectSafely error body becomes a typed linkmsg error (vendors.md §2.8, §6.8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import linkmsg
from linkmsg.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from tests.support.cassettes import cassette

BASE_URL = "https://api.connectsafely.ai"
KEY = "test-key-errors-5f1c"
CONV = (
    "urn:li:msg_conversation:(urn:li:fsd_profile:ACoAAATPlQ0Bc8wdg-Iy8wZgEDuSdIVWJiE1Aio,"
    "2-NzkzMDFlNzAtZjU2OS00MjIwLWE2ZDctYzZkMWE1ZDljZDAyXzEwMA==)"
)


def client(**settings: object) -> linkmsg.Client:
    return linkmsg.Client(provider="connectsafely", api_key=KEY, base_url=BASE_URL, **settings)


def test_success_false_with_error_string() -> None:
    with cassette("connectsafely", "error_400_success_false"), client() as c, pytest.raises(ProviderError) as info:
        c.send_typing(CONV)
    error = info.value
    assert type(error) is ProviderError
    assert (error.status, error.vendor_message) == (400, "conversationUrn is required")
    assert "conversationUrn is required" in str(error) and "invalid" in str(error)


def test_bare_error_string_401() -> None:
    with cassette("connectsafely", "error_401"), client() as c, pytest.raises(AuthenticationError) as info:
        c.list_conversations()
    assert not isinstance(info.value, PermissionDeniedError)
    assert info.value.status == 401
    assert "Unauthorized - Invalid credentials" in str(info.value)
    assert "api_key" in str(info.value) and KEY not in str(info.value)


def test_zod_error_object() -> None:
    with cassette("connectsafely", "error_400_zod"), client() as c, pytest.raises(ProviderError) as info:
        c.list_messages(CONV)
    assert info.value.status == 400
    assert info.value.vendor_message == "ZodError: profileId: Required"
    assert "profileId: Required" in str(info.value)


def test_code_and_message_body() -> None:
    with cassette("connectsafely", "error_400_code_message"), client() as c, pytest.raises(ProviderError) as info:
        c.send_message("Hello", to="john-doe-123", typing=False)
    assert (info.value.code, info.value.vendor_message) == ("validation_error", "Explanation of what went wrong")


def test_success_false_inside_http_200() -> None:
    with cassette("connectsafely", "error_200_success_false"), client() as c, pytest.raises(ProviderError) as info:
        c.send_message("Hello", to="john-doe-123")
    assert info.value.status is None and info.value.vendor_message == "Failed to send message"
    assert "success: false" in str(info.value)
    with cassette("connectsafely", "error_200_success_false_bare"), client() as c, pytest.raises(ProviderError) as info:
        c.mark_read(CONV)
    assert "without a reason" in str(info.value)


def test_403_says_trial_or_seat_and_what_to_do() -> None:
    with cassette("connectsafely", "error_403"), client() as c, pytest.raises(PermissionDeniedError) as info:
        c.list_conversations()
    text = str(info.value)
    assert "Your trial has expired" in text and "seat" in text and "renew" in text


def test_403_on_a_group_send_says_the_group_rule() -> None:
    with cassette("connectsafely", "error_403_group"), client() as c, pytest.raises(PermissionDeniedError) as info:
        c.ex_send_group("urn:li:fsd_profile:ACoAADSoo60BM6hxemTbnN2aA_Z1-WlNFRhRYhU", "12345", "Hi")
    assert "through that group" in str(info.value)


def test_404_account_not_found() -> None:
    with (
        cassette("connectsafely", "error_404"),
        client(account_id="0123456789abcdef01234567") as c,
        pytest.raises(NotFoundError) as info,
    ):
        c.list_messages(CONV)
    assert "LinkedIn account not found" in str(info.value) and "account_id" in str(info.value)


def test_429_daily_cap_with_hold_until(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2026, 4, 27, 15, 0, tzinfo=UTC).timestamp()
    monkeypatch.setattr("linkmsg_connectsafely.mapping.time.time", lambda: now)
    with cassette("connectsafely", "error_429_daily_cap"), client() as c, pytest.raises(RateLimitError) as info:
        c.list_conversations()
    error = info.value
    assert error.retry_after is not None and error.retry_after >= 42 * 60 + 11  # holdUntil 15:42:11Z
    text = str(error)
    assert "CONNECT cap is used up (90/90 used)" in text and "not a request-rate limit" in text


def test_429_request_rate_with_retry_after_header() -> None:
    with cassette("connectsafely", "error_429_request_rate"), client() as c, pytest.raises(RateLimitError) as info:
        c.list_conversations()
    assert info.value.retry_after == 120  # Retry-After, read by the transport; above max_retry_wait, so raised
    assert "request-rate limit" in str(info.value)


def test_500_is_a_server_error() -> None:
    with cassette("connectsafely", "error_500"), client(max_retries=0) as c, pytest.raises(ServerError) as info:
        c.list_messages(CONV)
    assert info.value.retryable and "Failed to get conversation details" in str(info.value)
