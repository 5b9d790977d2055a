"""The auto-reply engine's state: its store, the kill switch, start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bridge.autoreply import rules as rulebook
from bridge.autoreply.replier import (
    Replier,
    api_key_configured,
)
from bridge.control.autoreply import AutoReplyState
from bridge.ingest.writer_thread import WriterThread
from bridge.paths import DataPaths
from bridge.send.sender import Sender
from bridge.settings import Settings
from bridge.transport.protocol import Transport
from store.autoreply import (
    AutoReplyRule,
    AutoReplyStore,
)
from store.clock import utcnow
from store.errors import StoreError
from store.models import Message, MessageRecord
from store.reader import StoreReader

log = logging.getLogger(__name__)

# A message older than this when it reaches us (delivered after an outage) is not answered.
STALE_AFTER = timedelta(hours=1)
MAX_WAIT_FACTOR = 3
# Loop detection: this many auto-replies in a row answered by the peer within LOOP_GAP.
LOOP_PAIRS = 3
LOOP_GAP = timedelta(seconds=3)
MAX_REPLY_CHARS = 4096
# Typing speed used for the human-like delay, within the delay bounds from the settings.
CHARS_PER_SECOND = 12.0
MAX_BACKOFF = 30.0
MAX_CONCURRENT_REPLIES = 16
# Sends refused as rate_limited although the windows had room (spacing queue): tries, at most.
MAX_RATE_RETRIES = 5


@dataclass
class _ChatQueue:
    pending: dict[str, MessageRecord] = field(default_factory=dict)
    first_at: float | None = None
    timer: asyncio.TimerHandle | None = None
    busy: bool = False


class EngineBase:
    def __init__(
        self,
        settings: Settings,
        *,
        transport: Transport,
        sender: Sender,
        writer: WriterThread,
        reader: StoreReader,
        replier: Replier | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.sender = sender
        self.writer = writer
        self.reader = reader
        self._replier = replier
        self._clock = clock
        self._store: AutoReplyStore | None = None
        self._rules: dict[str, AutoReplyRule] = {}
        self._queues: dict[str, _ChatQueue] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_REPLIES)
        self.considered = 0  # inbound deliveries looked at (observability, tests)
        # Benchmarks, whose fake peers answer instantly by design, turn loop detection off.
        self.loop_pairs = LOOP_PAIRS

    async def start(self) -> None:
        path = DataPaths(self.settings.data_dir).messages_db

        def recovered(conn: sqlite3.Connection) -> tuple[AutoReplyStore, list[AutoReplyRule]]:
            store = AutoReplyStore(conn)
            abandoned = store.abandon_claims()
            if abandoned:
                log.warning(
                    "%d auto-reply attempt(s) were interrupted by a bridge stop; their messages "
                    "stay unanswered (at most one reply per message)",
                    abandoned,
                )
            return store, store.rules()

        opened = await self.writer.open_feature(path, recovered, "auto-reply")
        if opened is None:
            return
        self._store, rules = opened
        self._rules = {r.chat: r for r in rules}
        live = [r.chat for r in self._rules.values() if rulebook.is_live(r, self._clock())]
        if live:
            log.info("auto-reply is on for: %s", ", ".join(live))

    async def stop(self) -> None:
        for queue in self._queues.values():
            if queue.timer is not None:
                queue.timer.cancel()
        self._queues.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._replier is not None:
            with contextlib.suppress(Exception):
                await self._replier.aclose()
        if self._store is not None:
            await self.writer.run(self._store.close)
            self._store = None

    @property
    def store(self) -> AutoReplyStore:
        if self._store is None:
            raise StoreError(
                "Auto-reply is unavailable: the bridge could not open its tables (see bridge.log "
                "in the data dir), or it is still starting."
            )
        return self._store

    def active(self) -> bool:
        """True while any rule is on and unexpired: the bridge then stays up unattended."""
        now = self._clock()
        return any(rulebook.is_live(r, now) for r in self._rules.values())

    def idle(self) -> bool:
        """Nothing waiting in a debounce and no reply in progress."""
        return not self._queues and not self._tasks

    def state(self) -> AutoReplyState:
        return AutoReplyState(
            rules=sorted(self._rules.values(), key=lambda r: r.chat),
            model=self.settings.autoreply_model,
            gemini_key_configured=api_key_configured(),
        )

    async def refresh_state(self) -> AutoReplyState:
        self._rules = {r.chat: r for r in await self.writer.run(self.store.rules)}
        return self.state()


def loop_suspected(history: list[Message], pairs_needed: int = LOOP_PAIRS) -> bool:
    """The peer answered each of our last `pairs_needed` auto-replies within LOOP_GAP: a bot.

    `history` is newest first. A message of mine written by hand breaks the pattern.
    """
    pairs = 0
    i = 0
    while i + 1 < len(history) and pairs < pairs_needed:
        theirs, ours = history[i], history[i + 1]
        if theirs.is_from_me or not (ours.is_from_me and ours.is_auto_reply):
            break
        if theirs.timestamp - ours.timestamp > LOOP_GAP:
            break
        pairs += 1
        i += 2
    return pairs >= pairs_needed
