"""The one clock: wall time for timestamps and rate windows, and a way to wait.

Everything that needs the time takes a `Clock` (default `SYSTEM_CLOCK`), so tests can pass a
simulated one and drive time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Wall-clock seconds and a way to wait; tests pass a simulated one."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


def now_ms(clock: Clock = SYSTEM_CLOCK) -> int:
    """The clock's time in whole milliseconds (how the store keeps times)."""
    return int(clock.now() * 1000)


def utcnow(clock: Clock = SYSTEM_CLOCK) -> datetime:
    """The clock's time as an aware UTC datetime."""
    return datetime.fromtimestamp(clock.now(), UTC)
