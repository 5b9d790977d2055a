"""Connecting, and the seeded and synthetic history pushed in chunks like a phone does."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bridge.transport.protocol import (
    ConnectionState,
    ContactsEvent,
    GroupEvent,
    HistoryEvent,
    PairingEvent,
    ReactionEvent,
    TransportEvent,
)
from bridge.transport.simulated.history import seed_events
from bridge.transport.simulated.net_base import _HISTORY_BACKLOG, SimulatedBase, log
from bridge.transport.simulated.seed import (
    synthetic_history,
)
from store.models import (
    HistoryBatch,
)
from store.sync_state import SIMULATED_SEED


class SimulatedHistory(SimulatedBase):
    async def start(self) -> None:
        # `connecting` lasts only while a slow phone's delayed connect is pending: one is enough.
        if self._state in (
            ConnectionState.connected,
            ConnectionState.pairing,
            ConnectionState.connecting,
        ):
            return
        self._set_state(ConnectionState.connecting)
        if not self._paired:
            self._set_state(ConnectionState.pairing)
            self._emit(
                PairingEvent(
                    code=None,
                    qr=f"2@simulated,{self._seed},{self._new_id()}",
                    expires_at=self._clock() + timedelta(seconds=60),
                )
            )
            return
        if self._connect_delay > 0:
            self._spawn(self._connect_later())
            return
        self._connect()

    async def _connect_later(self) -> None:
        await asyncio.sleep(self._connect_delay)
        self._connect()

    async def stop(self) -> None:
        await self._cancel_tasks()
        if self._state not in (ConnectionState.disconnected, ConnectionState.logged_out):
            self._set_state(ConnectionState.disconnected)
        self._queue.put_nowait(None)  # everything emitted so far, then the end of the stream

    async def inject_event(self, event: TransportEvent) -> None:
        """Push any raw event into the stream (tests)."""
        self._emit(event)

    def _connect(self) -> None:
        self._set_state(ConnectionState.connected)
        if not self._world_sent:
            # Like a first login: WhatsApp pushes contacts, groups and the history once.
            self._world_sent = True
            world = self.world
            self._emit(ContactsEvent(contacts=world.contacts))
            for group in world.groups:
                self._emit(GroupEvent(group=group))
            slow = self._history_chunk_delay > 0
            chunks = seed_events(
                world.chats,
                world.messages,
                self.SLOW_BATCH_SIZE if slow else self.SEED_BATCH_SIZE,
                total=self._history_total,
                newest_first=slow,
                final=slow and not self._history_messages,
            )
            if not slow:
                # The end-of-seed marker below closes an instant sync: no chunk before it may
                # say "done" (100) while reactions are still to come.
                chunks = [
                    c.model_copy(update={"progress": min(99, c.progress or 0)}) for c in chunks
                ]
            self._seed_pending = list(chunks)
            self._history_done += len(world.messages)
            self._seed_pending += [ReactionEvent(reaction=r) for r in world.reactions]
            # The seeded world is ready once this lands: a first read in simulate mode waits
            # for it (mcp_server/readiness.py) instead of answering from a half-written store.
            # A slow (chunked) sync marks it after its first chunk: the rest is reported as a
            # running sync, never waited for.
            marker = HistoryEvent(
                batch=HistoryBatch(),
                sync_type=SIMULATED_SEED,
                progress=None if slow else self._progress(),
                final=not slow and not self._history_messages,
            )
            self._seed_pending.insert(1 if slow else len(self._seed_pending), marker)
            if not slow:
                for event in self._seed_pending:
                    self._emit(event)
                self._seed_pending = []
            if self._history_messages:
                self._synthetic = synthetic_history(
                    self._history_messages,
                    seed=self._seed,
                    now=world.now - timedelta(days=31),
                    batch_size=self.SYNTHETIC_BATCH_SIZE,
                    account_jid=self._account_jid,
                )
        if self._seed_pending or self._synthetic is not None:
            self._spawn(self._feed_history())

    def _progress(self) -> int:
        return 100 * self._history_done // max(1, self._history_total)

    def _history_event(self, batch: HistoryBatch) -> HistoryEvent:
        self._history_done += len(batch.messages)
        # 100 only on the chunk that ends the sync, so "done" never precedes the last of it.
        progress = min(99, self._progress())
        if self._synthetic is not None and self._history_done >= self._history_total:
            return HistoryEvent(batch=batch, progress=100, sync_type="FULL", final=True)
        return HistoryEvent(
            batch=batch, progress=progress, sync_type="FULL" if self._synthetic else None
        )

    async def _feed_history(self) -> None:
        # The first chunk at once (tests and the demo wait for the seeded world to appear),
        # the rest spaced like a phone pushing history; a stop keeps what was not sent.
        first = True
        while self._seed_pending:
            event = self._seed_pending[0]
            if isinstance(event, HistoryEvent) and not first:
                await asyncio.sleep(self._history_chunk_delay)
            first = False
            self._emit(self._seed_pending.pop(0))
        if self._synthetic is not None:
            await self._feed_synthetic()

    async def _feed_synthetic(self) -> None:
        assert self._synthetic is not None
        for batch in self._synthetic:
            self._emit(self._history_event(batch))
            # Generation is CPU work: let the consumer catch up before making more.
            while self._queue.qsize() >= _HISTORY_BACKLOG:
                self._drained.clear()
                await self._drained.wait()
            await asyncio.sleep(0)
        self._synthetic = None
        log.info("simulated history sync done: %d messages", self._history_done)
