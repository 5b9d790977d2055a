"""The send rate limits as numbers: the conservative defaults and the configured values.

In the contract package because both sides need them: the bridge's gate enforces them
(bridge/send/ratelimit.py) and every MCP server computes its own to compare with the running
bridge's (bridge/control/security.py).
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

from bridge.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_PER_MINUTE = 3
DEFAULT_PER_HOUR = 20
DEFAULT_PER_DAY = 100
DEFAULT_MIN_INTERVAL = 8.0
FANOUT_CHATS = 3


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
