"""LinkupAPI v1 error bodies to linkmsg's typed errors.

v1 reports errors as ``{"status": "error", "message": "…"}``, with a 4xx/5xx
status or, per the v2 migration guide, with HTTP 200; FastAPI's request
validation answers 422 ``{"detail": [{"loc", "msg", "type", "input"}]}``; and a
history request for a conversation that does not exist is a *success* with no
``data``. The vendor's words are classified to pick the error type and say
what to do. Nothing here reads ``detail[].input``: it echoes the request body,
login token included.
"""

from __future__ import annotations

from typing import Any, Final

from linkmsg.errors import LinkmsgError, NotFoundError, ProviderError
from linkmsg.payload import structure
from linkmsg.provider import error_from_status
from linkmsg_linkup.payloads import StatusBody, ValidationIssue

__all__ = ["error_from_body"]

_PROVIDER: Final = "linkup"
_RENEW_SESSION: Final = (
    "the LinkedIn session behind login_token has expired or was revoked: log in again through LinkupAPI "
    "(POST /v1/auth/login, then /v1/auth/verify) and pass the new login_token"
)
_KEY_OR_CREDITS: Final = (
    "LinkupAPI rejected the API key OR the account has run out of credits (the vendor reports both with one "
    "message): check the api_key setting (sent as x-api-key) and the credit balance on linkupapi.com"
)


def _issues(detail: Any) -> str | None:
    """FastAPI's ``detail``: 'body.field: msg' for each issue, or the plain string."""
    if isinstance(detail, str):
        return detail or None
    if not isinstance(detail, list):
        return None
    try:
        issues = structure(detail, list[ValidationIssue], provider=_PROVIDER)
    except LinkmsgError:
        return None
    parts = []
    for issue in issues:
        where = ".".join(str(part) for part in issue.loc if isinstance(part, str | int))
        parts.append(f"{where}: {issue.msg or issue.type or 'invalid'}" if where else issue.msg or "invalid")
    return "; ".join(parts) or None


_LINKEDIN_LIMIT: Final = "LinkedIn is rate-limiting this LinkedIn account: wait (hours, not seconds) before retrying"
_API_LIMIT: Final = "LinkupAPI's own request rate limit was hit: slow down (e.g. rate_limit='30/min') and retry"
_SOME_LIMIT: Final = "rate limited (LinkedIn or LinkupAPI, the vendor did not say which): wait before retrying"
_BAD_URL: Final = "pass a profile URL such as https://www.linkedin.com/in/<slug> or an ACoAA… id"
_FAILED: Final = "LinkupAPI or LinkedIn failed: retry later"
_REFUSED: Final = "the request was refused: fix it before retrying"


def _classify(text: str, status: int | None) -> tuple[int, str, bool | None]:
    """(effective HTTP status, what to do, retryable override) for the vendor's words.

    ``status`` is the HTTP status of an error response, None for an error inside a 200.
    """
    lowered = text.lower()
    if "token expired" in lowered or "session expired" in lowered:
        return (status if status in (401, 403) else 403), _RENEW_SESSION, None
    if "api key" in lowered or "insufficient credits" in lowered:
        return 401, _KEY_OR_CREDITS, None
    if "unauthorized" in lowered:
        return 401, "check the api_key and login_token settings", None
    if "rate limit" in lowered:
        if "linkedin" in lowered:
            # LinkedIn's per-account limits reset over hours; quick retries only burn the account's standing.
            return 429, _LINKEDIN_LIMIT, False
        return 429, _API_LIMIT if "api" in lowered else _SOME_LIMIT, None
    if "linkedin url" in lowered:
        return 400, _BAD_URL, None
    if "not found" in lowered:
        return 404, "check the conversation id or profile URL", None
    server = status is not None and status >= 500
    if server or "server error" in lowered or "error occurred" in lowered:
        return (status if status is not None and server else 500), _FAILED, None
    fallback = {401: _KEY_OR_CREDITS, 403: _RENEW_SESSION, 429: _SOME_LIMIT}
    if status is not None and status in fallback:
        return status, fallback[status], None
    return (status if status is not None else 400), _REFUSED, None


def error_from_body(status: int, data: Any) -> ProviderError | None:
    """The error a v1 response stands for, or None for a success."""
    body = None
    if isinstance(data, dict):
        try:
            body = structure(data, StatusBody, provider=_PROVIDER)
        except LinkmsgError:
            body = None
    vendor = None
    if body is not None:
        vendor = body.message if isinstance(body.message, str) and body.message else _issues(body.detail)
        if status < 400 and body.status != "error":
            # A success without data is how v1 says "no such conversation".
            if body.data is None and vendor and "no conversation found" in vendor.lower():
                return NotFoundError(
                    f"linkup: {vendor} (pass a conversation id from list_conversations, or check the profile URL)",
                    provider=_PROVIDER,
                    status=None,
                    vendor_message=vendor,
                )
            return None
    elif status < 400:
        return None
    effective, advice, retryable = _classify(vendor or "", status if status >= 400 else None)
    shown = f"HTTP {status}" if status >= 400 else "an error inside HTTP 200"
    said = f": {vendor}" if vendor else ""
    error = error_from_status(
        effective,
        f"linkup answered {shown}{said}. {advice[0].upper()}{advice[1:]}.",
        provider=_PROVIDER,
        vendor_message=vendor,
    )
    error.status = status if status >= 400 else None
    if retryable is not None:
        error.retryable = retryable
    return error
