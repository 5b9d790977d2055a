"""Send rate limits that hold across bridge restarts, on a clock tests can drive.

WhatsApp bans numbers for bot-like behaviour: bursts, and the same text to many people. The
limits are computed from the send log in the store (not from memory), so restarting the bridge
does not reset them. The numbers are conservative project choices, not WhatsApp-published ones:

- at most 3 sends a minute, 20 an hour, 100 a day (text, media and reactions count);
- at least 8 s ±50 % (jittered) between two sends; a send that comes sooner waits;
- the same text to more than 3 different chats in 24 h is refused.

Users may tighten the windows and lengthen the spacing; values looser than the defaults are
capped at the defaults, except in simulate mode, where no real number can be banned.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

from bridge.control.limits import (
    DEFAULT_MIN_INTERVAL as DEFAULT_MIN_INTERVAL,
)
from bridge.control.limits import DEFAULT_PER_DAY as DEFAULT_PER_DAY
from bridge.control.limits import DEFAULT_PER_HOUR as DEFAULT_PER_HOUR
from bridge.control.limits import DEFAULT_PER_MINUTE as DEFAULT_PER_MINUTE
from bridge.control.limits import FANOUT_CHATS as FANOUT_CHATS
from bridge.control.limits import RateLimits as RateLimits
from bridge.send.policy import Refusal
from store.audit import SendLogStore
from store.clock import Clock as Clock
from store.clock import SystemClock as SystemClock

log = logging.getLogger(__name__)

_MINUTE, _HOUR, _DAY = 60_000, 3_600_000, 86_400_000


def _when(ms: int, now_ms: int) -> str:
    at = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    wait = max(0, ms - now_ms) / 1000
    if wait < 120:
        human = f"{wait:.0f} s"
    elif wait < 7200:
        human = f"{wait / 60:.0f} min"
    else:
        human = f"{wait / 3600:.1f} h"
    return f"{at} (in {human})"


class RateLimiter:
    """Judges one send against the persisted history. The caller serialises check → send →
    record, so two sends never pass the same window check."""

    def __init__(
        self,
        store: SendLogStore,
        limits: RateLimits,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.limits = limits
        self.clock = clock
        self.rng = rng or random.Random()

    def now_ms(self) -> int:
        # round, not int: after a spacing sleep, float seconds may land a hair below the target
        # millisecond, and truncating would record the send 1 ms before its allowed time.
        return round(self.clock.now() * 1000)

    def check_windows(self, now_ms: int) -> Refusal | None:
        """Refuse when a per-minute/hour/day window is full; say when it frees up."""
        sent = self.store.sent_since(now_ms - _DAY)
        for span, limit, setting, label in (
            (_MINUTE, self.limits.per_minute, "WHATSAPP_MCP_SEND_PER_MINUTE", "minute"),
            (_HOUR, self.limits.per_hour, "WHATSAPP_MCP_SEND_PER_HOUR", "hour"),
            (_DAY, self.limits.per_day, "WHATSAPP_MCP_SEND_PER_DAY", "24 hours"),
        ):
            inside = [t for t in sent if t > now_ms - span]
            if len(inside) >= limit:
                # The window has room again once enough of its oldest sends age out.
                free_at = inside[len(inside) - limit] + span
                return Refusal(
                    code="rate_limited",
                    message=f"{len(inside)} messages were sent in the last {label}; the limit "
                    f"is {limit} ({setting}). Sending is possible again at "
                    f"{_when(free_at, now_ms)}. WhatsApp bans numbers that send in bursts.",
                )
        return None

    def check_fanout(self, key: str, chat_jid: str, now_ms: int) -> Refusal | None:
        """Refuse the same text to one chat more than `fanout_chats` others got in 24 h."""
        chats = self.store.fanout_chats(key, now_ms - _DAY)
        chats.pop(chat_jid, None)
        limit = self.limits.fanout_chats
        if len(chats) < limit:
            return None
        newest = sorted(chats.values())
        free_at = newest[len(newest) - limit] + _DAY
        return Refusal(
            code="duplicate_text",
            message=f"The same text was already sent to {len(chats)} other chats in the last 24 "
            f"hours; sending it to more than {limit} looks like spam to WhatsApp and gets "
            f"numbers banned. Write this message differently, or wait until "
            f"{_when(free_at, now_ms)}. No setting raises this limit.",
        )

    def spacing_wait(self, now_ms: int) -> float:
        """Seconds until the jittered minimum spacing after the last send has passed."""
        last = self.store.last_sent()
        if last is None:
            return 0.0
        at, spacing = last
        return max(0.0, (at + spacing - now_ms) / 1000)

    def spacing_refusal(self, wait: float, now_ms: int) -> Refusal:
        free_at = now_ms + int(wait * 1000)
        return Refusal(
            code="rate_limited",
            message="Sends are spaced at least "
            f"{self.limits.min_interval:.0f} s apart (WHATSAPP_MCP_SEND_MIN_INTERVAL) and others "
            f"are queued ahead of this one. Sending is possible again at {_when(free_at, now_ms)}.",
        )

    def draw_spacing_ms(self) -> int:
        """The gap to keep after a send that just happened, with jitter so sends do not tick
        like a bot's."""
        base = self.limits.min_interval
        j = self.limits.jitter
        return int(base * self.rng.uniform(1 - j, 1 + j) * 1000)
