"""The simulated network's state: connection, event queue, ids, tasks."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.transport.protocol import (
    ConnectionEvent,
    ConnectionState,
    NotConnected,
    OutboundMedia,
    OutboundText,
    TransportEvent,
)
from bridge.transport.simulated.seed import (
    DEFAULT_ACCOUNT_JID,
    Person,
    build_world,
    message_id,
)
from store.clock import utcnow
from store.errors import InvalidArgument
from store.jid import normalize_jid
from store.models import (
    HistoryBatch,
)

log = logging.getLogger(__name__)

# History batches waiting in the queue before the generator pauses: keeps a 1M-message
# simulated sync from sitting in memory all at once.
_HISTORY_BACKLOG = 2
# A peer stops answering after this many answers per session, so an auto-reply rule pointed at
# a simulated peer cannot ping-pong forever.
MAX_ANSWERS_PER_PEER = 25
_PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTVWXYZ"


@dataclass(frozen=True)
class SentReaction:
    chat_jid: str
    message_id: str
    sender: str | None
    emoji: str


@dataclass(frozen=True)
class ReadMark:
    chat_jid: str
    message_ids: tuple[str, ...]
    sender: str | None


Sent = OutboundText | OutboundMedia | SentReaction


class SimulatedBase:
    """A scriptable WhatsApp that is always paired (until `logout`) and answers like people do.

    Deterministic: two transports with the same seed and clock produce the same events.
    """

    name = "simulated"

    SEED_BATCH_SIZE = 100

    SYNTHETIC_BATCH_SIZE = 5000

    SLOW_BATCH_SIZE = 30  # with a chunk delay: ten seeded chunks instead of three

    def __init__(
        self,
        *,
        seed: int = 7,
        reply_delay: float = 1.5,
        history_messages: int = 0,
        history_chunk_delay: float = 0.0,
        connect_delay: float = 0.0,
        account_jid: str = DEFAULT_ACCOUNT_JID,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if history_messages < 0:
            raise InvalidArgument("history_messages must be 0 or more.")
        self._seed = seed
        self._reply_delay = max(0.0, reply_delay)
        self._history_messages = history_messages
        self._history_chunk_delay = max(0.0, history_chunk_delay)
        # A real phone takes seconds to connect and push its contacts: until then the store is
        # empty, which first calls must not mistake for "no such contact".
        self._connect_delay = max(0.0, connect_delay)
        self._seed_pending: list[TransportEvent] = []
        self._account_jid = normalize_jid(account_jid)
        self._clock = clock or utcnow
        self.world = build_world(seed=seed, now=self._clock(), account_jid=self._account_jid)

        self._state = ConnectionState.disconnected
        self._paired = True
        # None ends the stream: the bridge's ingest runs until then (issue 12's ordered stop).
        self._queue: asyncio.Queue[TransportEvent | None] = asyncio.Queue()
        self._drained = asyncio.Event()
        # Live ids are new on every start: a restarted bridge must not reuse an id the store
        # already holds (the send would collide with a stored message and never appear).
        self._ids = random.Random(f"live/{seed}/{secrets.token_hex(8)}")
        self._media: dict[str, bytes] = dict(self.world.media)
        self._people: dict[str, Person] = {p.jid: p for p in self.world.people}
        self._lids: dict[str, str] = {p.lid: p.jid for p in self.world.people if p.lid}
        self._groups: set[str] = {g.jid for g in self.world.groups}
        self._answers: dict[str, int] = {}
        self._world_sent = False
        self._synthetic: Iterator[HistoryBatch] | None = None
        self._history_done = 0
        self._history_total = len(self.world.messages) + history_messages
        self._tasks: set[asyncio.Task[None]] = set()

        # What the bridge asked for, in order: for tests and the demo's transcript.
        self.sent: list[Sent] = []
        self.read_marks: list[ReadMark] = []
        self.typing: list[tuple[str, bool]] = []

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def account_jid(self) -> str | None:
        return self._account_jid if self._paired else None

    def is_paired(self) -> bool:
        return self._paired

    def events(self) -> AsyncIterator[TransportEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[TransportEvent]:
        while True:
            event = await self._queue.get()
            self._drained.set()
            if event is None:
                return
            yield event

    def _emit(self, event: TransportEvent) -> None:
        self._queue.put_nowait(event)

    def _set_state(self, state: ConnectionState, *, detail: str | None = None) -> None:
        self._state = state
        account = self._account_jid if state is ConnectionState.connected else None
        self._emit(ConnectionEvent(state=state, detail=detail, account_jid=account))

    def _require_connected(self) -> None:
        if self._state is not ConnectionState.connected:
            raise NotConnected(
                f"The simulated WhatsApp is not connected (state: {self._state.value})."
            )

    def _new_id(self) -> str:
        return message_id(self._ids)

    def _chat_of(self, jid: str) -> str:
        chat = normalize_jid(jid)
        return self._lids.get(chat, chat)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
