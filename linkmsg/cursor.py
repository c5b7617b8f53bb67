"""Opaque, versioned, provider-tagged page tokens.

A cursor is ``lm1.`` followed by URL-safe base64 (no padding) of a compact JSON
object: provider, listing, a digest of the listing's filters, the vendor's own
position, and a CRC32 over all of it. It can be stored as text and passed back
days later in another process; any cursor that was corrupted, or belongs to
another provider or listing, raises :class:`~linkmsg.errors.InvalidCursor`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections.abc import Mapping
from typing import Any

from linkmsg.errors import InvalidCursor

__all__ = ["decode", "encode", "listing_digest", "position_from_key", "position_key"]

_PREFIX = "lm1."


def listing_digest(listing: str, filters: Mapping[str, Any]) -> str:
    """A short digest that identifies a listing and the filters it was asked with."""
    canonical = json.dumps(
        {"l": listing, "f": {k: v for k, v in filters.items() if v is not None}},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.blake2s(canonical.encode(), digest_size=6).hexdigest()


def encode(provider: str, listing: str, filters: Mapping[str, Any], position: Any) -> str:
    body = {"p": provider, "l": listing, "d": listing_digest(listing, filters), "v": position}
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    crc = zlib.crc32(raw).to_bytes(4, "big")
    return _PREFIX + base64.urlsafe_b64encode(crc + raw).rstrip(b"=").decode("ascii")


def position_key(position: Any) -> str:
    """The position's part of its cursor: for one provider, listing and filters, two
    positions have the same cursor exactly when they have the same key.

    An auto-paginating iterator that never shows its cursors follows this key
    instead of encoding and decoding a whole cursor per page; it fails where
    :func:`encode` would on a position JSON cannot hold.
    """
    return json.dumps(position, separators=(",", ":"), ensure_ascii=False)


def position_from_key(key: str) -> Any:
    """The position a provider gets back from ``key``: what :func:`decode` gives for its cursor."""
    return json.loads(key)


def decode(token: object, *, provider: str, listing: str, filters: Mapping[str, Any]) -> Any:
    """The vendor position inside ``token``, checked against where it is used."""
    if not isinstance(token, str) or not token.startswith(_PREFIX):
        raise InvalidCursor(
            f"not a linkmsg cursor: {_preview(token)}; pass back the `next_cursor` "
            "string of a Page exactly as it was returned"
        )
    payload = token[len(_PREFIX) :]
    try:
        blob = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        crc, raw = blob[:4], blob[4:]
        if len(crc) != 4 or zlib.crc32(raw).to_bytes(4, "big") != crc:
            raise ValueError("checksum mismatch")
        body = json.loads(raw)
        if not isinstance(body, dict) or not {"p", "l", "d", "v"} <= body.keys():
            raise ValueError("missing fields")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(f"corrupted cursor {_preview(token)} ({exc})") from None
    if body["p"] != provider:
        raise InvalidCursor(
            f"this cursor belongs to provider {body['p']!r}, not {provider!r}; "
            "cursors cannot move between vendors: start the listing again"
        )
    if body["l"] != listing or body["d"] != listing_digest(listing, filters):
        raise InvalidCursor(
            f"this cursor belongs to another listing ({body['l']!r} with other "
            "filters); pass it back with the same conversation and filters it came from"
        )
    return body["v"]


def _preview(token: object) -> str:
    text = repr(token)
    return text if len(text) <= 40 else text[:37] + "...'"
