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
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field

from bridge.send.policy import Refusal
from bridge.settings import Settings
from store.audit import SendLogStore
from store.clock import Clock as Clock
from store.clock import SystemClock as SystemClock

log = logging.getLogger(__name__)

DEFAULT_PER_MINUTE = 3
DEFAULT_PER_HOUR = 20
DEFAULT_PER_DAY = 100
DEFAULT_MIN_INTERVAL = 8.0
FANOUT_CHATS = 3
_MINUTE, _HOUR, _DAY = 60_000, 3_600_000, 86_400_000


class RateLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    per_minute: int = Field(default=DEFAULT_PER_MINUTE, ge=1)
    per_hour: int = Field(default=DEFAULT_PER_HOUR, ge=1)
    per_day: int = Field(default=DEFAULT_PER_DAY, ge=1)
    min_interval: float = Field(default=DEFAULT_MIN_INTERVAL, ge=0)
    jitter: float = Field(default=0.5, ge=0, le=1, description="± fraction of min_interval.")
    fanout_chats: int = Field(default=FANOUT_CHATS, ge=1)
    max_wait: float = Field(
        default=20.0, ge=0, description="Longest a send may queue for spacing before refusal."
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        """The configured limits, with loosening capped at the defaults on a real account."""
        want = cls(
            per_minute=settings.send_per_minute,
            per_hour=settings.send_per_hour,
            per_day=settings.send_per_day,
            min_interval=settings.send_min_interval,
        )
        if settings.simulate:
            return want
        capped = cls(
            per_minute=min(want.per_minute, DEFAULT_PER_MINUTE),
            per_hour=min(want.per_hour, DEFAULT_PER_HOUR),
            per_day=min(want.per_day, DEFAULT_PER_DAY),
            min_interval=max(want.min_interval, DEFAULT_MIN_INTERVAL),
        )
        if capped != want:
            log.warning(
                "send limits looser than the defaults are capped on a real account: using "
                "%d/min, %d/h, %d/day, %.0f s spacing",
                capped.per_minute,
                capped.per_hour,
                capped.per_day,
                capped.min_interval,
            )
        return capped


def _when(ms: int, now_ms: int) -> str:
    at = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
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
