"""`since` arguments (prompts and get_digest): an ISO date or time, or a span back from now."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"^\s*(\d{1,5})\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class PromptArgumentError(ValueError):
    """A prompt argument cannot be understood; the message says what to write instead."""


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """`2024-05-01`, `2024-05-01T08:00`, or a span back from now: `30m`, `12h`, `2d`, `1w`."""
    if text is None or not text.strip():
        return None
    now = now or datetime.now(UTC)
    m = _RELATIVE.match(text)
    if m:
        return now - timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})
    try:
        ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise PromptArgumentError(
            f"since={text!r} is not a time: write an ISO date like 2024-05-01T08:00 or a span "
            "like 12h, 2d or 1w."
        ) from exc
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
