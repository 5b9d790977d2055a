"""Opaque keyset-pagination cursors.

A cursor is URL-safe base64 of a small JSON object: which listing it belongs to, a fingerprint
of the filters it was made with, and the sort key of the last row returned. Readers continue
strictly after that key, so pages never overlap or skip rows even while messages arrive.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from store.errors import InvalidArgument

_MAX_LEN = 2048


def fingerprint(*parts: object) -> str:
    """A short digest of the filters a listing was called with."""
    text = json.dumps([str(p) if p is not None else None for p in parts], ensure_ascii=True)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def encode(kind: str, fp: str, key: list[Any]) -> str:
    raw = json.dumps({"k": kind, "f": fp, "v": key}, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode(
    cursor: str, kind: str, fp: str, types: tuple[type | tuple[type, ...], ...]
) -> list[Any]:
    """The sort key stored in `cursor`; InvalidArgument when it is not one of ours for this call."""
    bad = InvalidArgument(
        "The cursor is not valid for this call. Pass the next_cursor value from the previous "
        "page unchanged, with the same filters, or omit cursor to start from the first page."
    )
    if not isinstance(cursor, str) or not cursor or len(cursor) > _MAX_LEN:
        raise bad
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        raise bad from None
    if not isinstance(data, dict) or data.get("k") != kind or data.get("f") != fp:
        raise bad
    key = data.get("v")
    if not isinstance(key, list) or len(key) != len(types):
        raise bad
    for value, expected in zip(key, types, strict=True):
        # bool is an int subclass; a cursor never holds booleans.
        if isinstance(value, bool) or not isinstance(value, expected):
            raise bad
    return key
