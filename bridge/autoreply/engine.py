"""The auto-reply engine: inbound message events in, at most one reply per message out.

For each inbound message the bridge has just stored (`on_message`, called from the ingest path):

1. cheap filters: no live rule at all, from me, my own chat, status/broadcast/newsletter, a group
   without its own rule, a `mention_only` group message that does not mention me, a placeholder
   or a message older than `STALE_AFTER` (delivered late after an outage);
2. debounce per chat: a burst is answered once, `debounce` seconds after its last message (at
   most `MAX_WAIT_FACTOR × debounce` after its first);
3. quiet hours and loop detection (the peer answered our last auto-replies within seconds, several
   times in a row: probably another bot);
4. the claim, one SQLite transaction (see store/autoreply.py): ids already in the ledger are
   dropped (duplicate deliveries, restarts); a hand-written message of mine in the chat since
   `takeover_pause` ago, or a full hourly cap, records the ids as skipped; otherwise they are
   claimed for one reply attempt, durably, before anything is sent;
5. typing presence, the reply (Gemini with bounded retries on 429/5xx/network errors, or the
   rule's fixed text), the rest of a human-like delay, then `Sender.send_text` into the chat that
   triggered it, with origin `auto_reply` (the policy gate applies, and the stored message is
   marked as an auto-reply);
6. the attempt is closed as sent / failed / skipped, with tokens and errors in the rule's stats.

Nothing here raises into the bridge: a failure is logged and recorded, never fatal.
"""

from __future__ import annotations

from bridge.autoreply.debounce import Debounce
from bridge.autoreply.engine_base import (
    CHARS_PER_SECOND,
    LOOP_GAP,
    LOOP_PAIRS,
    MAX_BACKOFF,
    MAX_CONCURRENT_REPLIES,
    MAX_REPLY_CHARS,
    MAX_WAIT_FACTOR,
    STALE_AFTER,
    loop_suspected,
)

__all__ = [
    "AutoReplyEngine",
    "CHARS_PER_SECOND",
    "LOOP_GAP",
    "LOOP_PAIRS",
    "MAX_BACKOFF",
    "MAX_CONCURRENT_REPLIES",
    "MAX_REPLY_CHARS",
    "MAX_WAIT_FACTOR",
    "STALE_AFTER",
    "loop_suspected",
]


class AutoReplyEngine(Debounce):
    """Auto-reply inside the bridge; its parts are engine_base, admin, reply and debounce."""
