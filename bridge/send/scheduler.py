"""Scheduled sends, fired by the bridge at their time.

One task waits for the soonest pending row (woken early when a schedule is added or cancelled)
and fires it through `Sender.send_text` with origin `scheduled`, so the gate judges it with the
policy and limits of that moment, and the send log records it like any other send. Rows live in
the store (store/scheduled.py), so they survive restarts. A row found more than
`schedule_grace` seconds late (the bridge was down, or the machine asleep) is marked missed and
never sent late without saying so. While WhatsApp is not connected a due row waits, up to the
same grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

from bridge.control.models import SendTextRequest
from bridge.control.schedule import ScheduleRequest, check_future
from bridge.ingest.writer_thread import WriterThread
from bridge.paths import DataPaths
from bridge.send.policy import check_content
from bridge.send.sender import Sender, SendRefused
from bridge.settings import Settings
from bridge.transport.protocol import ConnectionState, Transport
from store.clock import utcnow
from store.errors import InvalidArgument, StoreError
from store.reader import StoreReader
from store.scheduled import ScheduledMessage, ScheduleState, ScheduleStore

log = logging.getLogger(__name__)

# Longest single wait: bounds how long a changed wall clock (suspend, NTP step) goes unnoticed.
_MAX_NAP = 30.0
_NOT_CONNECTED_RETRY = 1.0


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        *,
        transport: Transport,
        sender: Sender,
        writer: WriterThread,
        reader: StoreReader,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.sender = sender
        self.writer = writer
        self.reader = reader
        self.clock = clock
        self.grace = timedelta(seconds=settings.schedule_grace)
        self._store: ScheduleStore | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pending = 0
        self.fired = 0  # rows that reached a final state by firing (observability, tests)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        path = DataPaths(self.settings.data_dir).messages_db

        def recovered(conn: sqlite3.Connection) -> ScheduleStore:
            store = ScheduleStore(conn)
            abandoned = store.abandon_sending()
            if abandoned:
                log.warning(
                    "%d scheduled send(s) were interrupted by a bridge stop; marked failed, "
                    "not sent again",
                    abandoned,
                )
            return store

        self._store = await self.writer.open_feature(path, recovered, "scheduled sends")
        if self._store is None:
            return
        self._pending = await self.writer.run(self._store.pending_count)
        self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._store is not None:
            store, self._store = self._store, None
            await self.writer.run(store.close)

    def active(self) -> bool:
        """A pending schedule is a reason for the bridge to stay up with nobody attached."""
        return self._pending > 0

    def store(self) -> ScheduleStore:
        if self._store is None:
            raise StoreError("Scheduled sends are unavailable: see bridge.log.")
        return self._store

    # ------------------------------------------------------------------ API

    async def add(self, req: ScheduleRequest) -> ScheduledMessage:
        store = self.store()
        check_future(req.at, self.clock(), req.at.isoformat())
        # Hidden payloads are refused now, not hours later when nobody is watching. Who may
        # receive it is judged at fire time, by the policy of that moment.
        refusal = check_content(req.text)
        if refusal is not None:
            raise SendRefused(refusal.code, refusal.message)
        chat = await self.sender.resolve(req.to)
        if req.reply_to:
            self.reader.get_message(chat, req.reply_to)  # NotFound names the next call
        item = await self.writer.run(store.add, chat, req.text, req.reply_to, req.at, req.zone)
        log.info("scheduled #%d to %s at %s", item.id, chat, item.at.isoformat())
        await self._changed()
        return item

    async def cancel(self, schedule_id: int) -> ScheduledMessage:
        item = await self.writer.run(self.store().cancel, schedule_id)
        await self._changed()
        return item

    async def _changed(self) -> None:
        self._pending = await self.writer.run(self.store().pending_count)
        self._wake.set()

    # ------------------------------------------------------------------ the loop

    async def _loop(self) -> None:
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:  # top of a loop: one bad row must not stop every later one
                log.exception("scheduler step failed")
                await asyncio.sleep(1.0)

    async def _nap(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, seconds))

    async def _step(self) -> None:
        store = self.store()
        item = await self.writer.run(store.next_pending)
        if item is None:
            self._pending = 0
            await self._nap(_MAX_NAP)
            return
        now = self.clock()
        if item.at > now:
            await self._nap(min((item.at - now).total_seconds(), _MAX_NAP))
            return
        late = now - item.at
        if late > self.grace:
            await self._miss(item, late, "the bridge was not running at that time")
            return
        if self.transport.state != ConnectionState.connected:
            # WhatsApp may be back in a moment; wait (inside the grace period), then give up.
            await self._nap(_NOT_CONNECTED_RETRY)
            if self.clock() - item.at > self.grace:
                await self._miss(item, self.clock() - item.at, "WhatsApp was not connected")
            return
        await self._fire(item)

    async def _miss(self, item: ScheduledMessage, late: timedelta, why: str) -> None:
        detail = (
            f"Not sent: due {item.at:%Y-%m-%d %H:%M:%S} UTC, but {why} until "
            f"{_span(late)} later, past the {_span(self.grace)} grace period "
            "(WHATSAPP_MCP_SCHEDULE_GRACE). Schedule it again if it still makes sense."
        )
        await self.writer.run(self.store().miss, item.id, detail)
        log.warning("scheduled #%d missed: %s", item.id, detail)
        await self._changed()

    async def _fire(self, item: ScheduledMessage) -> None:
        store = self.store()
        if not await self.writer.run(store.claim, item.id):
            return  # cancelled meanwhile
        await self._changed()
        req = SendTextRequest(
            to=item.chat_jid, text=item.text, reply_to=item.reply_to, origin="scheduled"
        )
        state: ScheduleState = "failed"
        detail: str | None = None
        message_id: str | None = None
        try:
            sent = await self.sender.send_text(req)
            state, message_id = "sent", sent.id
        except SendRefused as exc:
            state, detail = "refused", f"{exc.code}: {exc}"
        except InvalidArgument as exc:
            detail = str(exc)
        except Exception as exc:  # whatever the transport raised: recorded, never re-sent
            log.exception("scheduled #%d failed", item.id)
            detail = f"{type(exc).__name__}: {exc}"
        await self.writer.run(store.finish, item.id, state, detail, message_id)
        self.fired += 1
        log.info("scheduled #%d %s%s", item.id, state, f" ({detail})" if detail else "")


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"
