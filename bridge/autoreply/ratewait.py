"""When the send windows have room again, for an auto-reply that must not be dropped.

The send gate refuses a send when a per-minute/hour/day window is full. For a tool call that is
the right answer (the model hears when to retry); for an auto-reply nobody retries, so the
engine asks here first and waits for the window, within the message's staleness limit, before
it shows typing. Same arithmetic as `RateLimiter.check_windows`, over the same send log.
"""

from __future__ import annotations

import logging

from bridge.send.gate import Runner, SendGate
from bridge.send.ratelimit import RateLimiter

log = logging.getLogger(__name__)

_MINUTE, _HOUR, _DAY = 60_000, 3_600_000, 86_400_000


def windows_free_at_ms(limiter: RateLimiter, now_ms: int) -> int | None:
    """Epoch ms at which every rate window has room for one more send; None if it has now.
    Runs where the send log's connection lives (the store-writer thread)."""
    sent = sorted(limiter.store.sent_since(now_ms - _DAY))
    limits = limiter.limits
    free_at: int | None = None
    for span, limit in (
        (_MINUTE, limits.per_minute),
        (_HOUR, limits.per_hour),
        (_DAY, limits.per_day),
    ):
        inside = [t for t in sent if t > now_ms - span]
        if len(inside) >= limit:
            # Room again once enough of the window's oldest sends age out.
            at = inside[len(inside) - limit] + span + 1
            free_at = at if free_at is None else max(free_at, at)
    return free_at


async def wait_for_window(gate: SendGate, runner: Runner, deadline_ms: int) -> int | None:
    """Sleep (on the gate's clock) until the windows have room; None when they do. When that
    would be after `deadline_ms`, return at once the epoch ms at which they would."""
    limiter = gate.limiter
    while True:
        now_ms = limiter.now_ms()
        free_at = await runner.run(windows_free_at_ms, limiter, now_ms)
        if free_at is None:
            return None
        if free_at > deadline_ms:
            return free_at
        log.info("an auto-reply waits %.0f s for the send limits", (free_at - now_ms) / 1000)
        await gate.clock.sleep((free_at - now_ms) / 1000)
