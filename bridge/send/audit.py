"""Audit records of outbound attempts: one row per attempt, whatever its outcome.

The text itself is never written: a SHA-256 and the length identify it, so the user can match
a log entry to a message without the log becoming a second copy of their chats.
"""

from __future__ import annotations

import logging

from bridge.send.policy import fanout_key, text_sha256
from store.audit import Outcome, SendAttempt

log = logging.getLogger(__name__)

# Kinds that put a message in someone's chat: these count against the rate limits.
RATE_LIMITED_KINDS = frozenset({"text", "media", "reaction"})


def attempt_record(
    *,
    at_ms: int,
    origin: str,
    kind: str,
    recipient: str,
    text: str | None,
    outcome: Outcome,
    reason: str | None,
    message_id: str | None,
    spacing_ms: int = 0,
) -> SendAttempt:
    """The row for one attempt (`text` is hashed here and goes no further)."""
    log.info(
        "send %s to %s by %s: %s%s",
        kind,
        recipient,
        origin,
        outcome,
        f" ({reason})" if reason else "",
    )
    return SendAttempt(
        at_ms=at_ms,
        origin=origin,
        kind=kind,
        recipient=recipient,
        text_sha256=None if text is None else text_sha256(text),
        text_length=None if text is None else len(text),
        fanout_key=None if not text or kind not in ("text", "media") else fanout_key(text),
        rate_limited=kind in RATE_LIMITED_KINDS,
        outcome=outcome,
        reason=reason,
        message_id=message_id,
        spacing_ms=spacing_ms if outcome == "sent" else 0,
    )
