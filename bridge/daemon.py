"""The bridge daemon: one per data directory.

Holds the transport, is the only writer of the store, serves the control API, and exits after
an idle grace period when no MCP server is attached (attached = holding the event stream open)
and nothing else needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from starlette.types import ASGIApp

from bridge.autoreply.engine import AutoReplyEngine
from bridge.control.advice import ADVICE
from bridge.control.models import (
    BridgeEvent,
    BridgeStatus,
    PairingInfo,
)
from bridge.control.qr import qr_png
from bridge.control.security import SecuritySettings
from bridge.control.versions import OUTDATED_KV
from bridge.ingest.events import apply_event
from bridge.ingest.writer_thread import WriterThread
from bridge.media.transcribe import Transcription
from bridge.paths import DataPaths, write_private, write_private_bytes
from bridge.send.gate import open_gate
from bridge.send.scheduler import Scheduler
from bridge.send.sender import Sender
from bridge.send.strictest import SecurityRegistry
from bridge.server.app import ControlServer, Route
from bridge.server.error_map import map_error
from bridge.server.routes_autoreply import routes as autoreply_routes
from bridge.server.routes_core import routes as core_routes
from bridge.server.routes_import import routes as import_routes
from bridge.server.routes_messaging import routes as messaging_routes
from bridge.server.routes_pairing import routes as pairing_routes
from bridge.server.routes_schedule import routes as schedule_routes
from bridge.server.routes_security import routes as security_routes
from bridge.server.routes_transcribe import routes as transcribe_routes
from bridge.settings import Settings
from bridge.transport.protocol import (
    ConnectionEvent,
    ConnectionState,
    HistoryEvent,
    MessageEvent,
    PairingEvent,
    Transport,
    TransportEvent,
)
from store import sync_state
from store.errors import NotFound
from store.reader import StoreReader

log = logging.getLogger(__name__)


class Bridge:
    def __init__(
        self,
        settings: Settings,
        transport: Transport,
        writer: WriterThread,
        reader: StoreReader,
        *,
        idle_exit: float | None,
    ) -> None:
        self.settings = settings
        self.paths = DataPaths(settings.data_dir)
        self.transport = transport
        self.writer = writer
        self.reader = reader
        self.sender = Sender(transport, writer, reader, gate=open_gate(settings, writer, transport))
        # The strictest settings of this bridge and every attached server are what the gate uses.
        self.security = SecurityRegistry(SecuritySettings.from_settings(settings))
        self.sender.gate.settings_source = self.security.effective
        self.autoreply = AutoReplyEngine(
            settings, transport=transport, sender=self.sender, writer=writer, reader=reader
        )
        self.scheduler = Scheduler(
            settings, transport=transport, sender=self.sender, writer=writer, reader=reader
        )
        self.transcription = Transcription(self)
        self.idle_exit = idle_exit
        self.started_at = datetime.now(UTC)
        self.state = ConnectionState.disconnected
        self.state_detail: str | None = None
        self.pairing: PairingInfo | None = None
        self.attached = 0
        self._last_activity = time.monotonic()
        self._stop = asyncio.Event()
        # None in a queue ends that stream: the bridge is stopping.
        self._subscribers: set[asyncio.Queue[BridgeEvent | None]] = set()
        self._waiters: dict[tuple[str, str], asyncio.Future[None]] = {}
        self._server: ControlServer | None = None
        self._pairing_changed = asyncio.Event()
        self._bound_socket: Path | None = None
        self._sync: sync_state.SyncState | None = None  # issue 12: no idle exit mid-sync

    # ------------------------------------------------------------------ lifecycle

    def request_stop(self) -> None:
        self._stop.set()
        for queue in list(self._subscribers):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(None)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[ASGIApp]:
        """The bridge minus its socket: token, control app, auto-reply and ingest running.
        Yields the control API as an ASGI app; the caller starts the transport once the app is
        reachable. `run` serves the app on the socket; tests serve it in-process through
        `httpx2.ASGITransport`."""
        token = secrets.token_urlsafe(32)
        write_private(self.paths.token, token)
        self._server = ControlServer(
            token,
            self._routes(),
            streams={"/api/events": self._stream},
            map_error=map_error,
            on_request=self.touch,
        )
        await self.autoreply.start()
        await self._load_sync_state()
        await self.scheduler.start()
        await self.transcription.start()
        tasks = [
            asyncio.create_task(self._consume(), name="ingest"),
            asyncio.create_task(self._idle_watch(), name="idle"),
        ]
        try:
            yield self._server.app
        finally:
            self.request_stop()
            await self._shutdown(tasks)

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        """Stop in an order that loses nothing we can keep (issue 12): no new sends, then the
        transport disconnects and drains into our queue and ends its stream, and ingest
        writes everything up to that end. Every step is bounded: these three share 7 s (ingest
        gets whatever the others leave, for a big history chunk still in the queue), the
        loop's close takes at most 2.5 s more, so `stop` ends within 10 s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 7.0
        ingest, others = tasks[0], tasks[1:]
        for task in others:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.autoreply.stop(), 1.5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.scheduler.stop(), 1.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.transcription.stop(), 1.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.transport.stop(), 5)
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(ingest), max(0.5, deadline - loop.time()))
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def run(self) -> None:
        async with self.serving():
            assert self._server is not None
            await self._bind()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self.request_stop)
            try:
                await self.transport.start()
                log.info("bridge ready (pid %d, transport %s)", os.getpid(), self.transport.name)
                await self._stop.wait()
            finally:
                log.info("bridge stopping")
                await self._server.close()
                self._unbind()

    async def _bind(self) -> None:
        assert self._server is not None
        # Endpoints a dead bridge left behind (we hold the lock, so none is live): a client
        # must not find a stale port file or socket and knock on something else.
        for stale in (self.paths.port_file, self.paths.socket):
            stale.unlink(missing_ok=True)
        if self.settings.control_transport == "tcp":
            port = await self._server.start_tcp()
            write_private(self.paths.port_file, str(port))
            return
        target = self.paths.socket_bind_path()
        await self._server.start_unix(target)
        self._bound_socket = target
        if target != self.paths.socket:
            self.paths.socket.unlink(missing_ok=True)
            os.symlink(target, self.paths.socket)

    def _unbind(self) -> None:
        for path in (self.paths.token, self.paths.port_file, self.paths.socket):
            path.unlink(missing_ok=True)
        if self._bound_socket is not None:
            self._bound_socket.unlink(missing_ok=True)
            folder = self._bound_socket.parent
            if folder.name.startswith(f"wamcp-{os.getuid()}-"):  # a one-off folder: remove it
                with contextlib.suppress(OSError):
                    folder.rmdir()

    async def _idle_watch(self) -> None:
        if self.idle_exit is None:
            return
        tick = max(0.05, min(1.0, self.idle_exit / 4))
        while True:
            await asyncio.sleep(tick)
            if self.attached == 0 and not self.keep_alive():
                if time.monotonic() - self._last_activity >= self.idle_exit:
                    log.info("no MCP server attached for %.0f s: exiting", self.idle_exit)
                    self.request_stop()
                    return

    def touch(self) -> None:
        """Any authenticated request counts as activity for the idle timer."""
        self._last_activity = time.monotonic()

    def keep_alive(self) -> bool:
        """Reasons to stay up with nobody attached: an auto-reply rule is on, a scheduled send
        is pending, or a history sync is still arriving (whatsmeow deletes each chunk from the
        server once it is handed to us, so a chunk cut off by an exit is gone for good)."""
        return self.autoreply.active() or self.scheduler.active() or self._history_running()

    def _history_running(self) -> bool:
        state = self._sync
        return state is not None and state.running(datetime.now(UTC))

    async def _load_sync_state(self) -> None:
        raw = await self.writer.run(self.writer.writer.get_kv, sync_state.KV_KEY)
        self._sync = sync_state.parse(raw)

    # ------------------------------------------------------------------ events

    async def _consume(self) -> None:
        async for event in self.transport.events():
            try:
                await self._handle(event)
            except Exception:  # one bad event must not stop ingest
                log.exception("failed to handle %s event", getattr(event, "type", "?"))

    async def _handle(self, event: TransportEvent) -> None:
        if isinstance(event, ConnectionEvent | PairingEvent):
            self._pairing_changed.set()
        if isinstance(event, ConnectionEvent):
            self.state, self.state_detail = event.state, event.detail
            if event.state != ConnectionState.pairing:
                self.pairing = None
            if event.account_jid:
                await self.writer.run(self.writer.writer.set_kv, "account_jid", event.account_jid)
            await self._note_outdated(event.state)
            self._publish(BridgeEvent(type="connection", state=event.state))
            return
        if isinstance(event, PairingEvent):
            self.state = ConnectionState.pairing
            self.pairing = PairingInfo(qr=event.qr, code=event.code, expires_at=event.expires_at)
            if event.qr:
                await asyncio.to_thread(write_private_bytes, self.paths.qr_png, qr_png(event.qr))
            self._publish(BridgeEvent(type="pairing"))
            return
        published = await self.writer.run(apply_event, self.writer.writer, event)
        if isinstance(event, HistoryEvent):
            await self._load_sync_state()
        for item in published:
            self._publish(item)
        if isinstance(event, MessageEvent):
            chat = published[0].chat_jid if published else None
            self._wake(chat or event.message.chat_jid, event.message.id)
            # Every inbound delivery, new or repeated: the auto-reply ledger dedups, not ingest.
            self.autoreply.on_message(event.message)
            self.transcription.on_message(event.message)

    async def _note_outdated(self, state: ConnectionState) -> None:
        """Remember a 405 "client outdated" for `whatsapp-mcp doctor` (bridge not running)."""
        if state == ConnectionState.outdated:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            await self.writer.run(self.writer.writer.set_kv, OUTDATED_KV, stamp)
        elif state == ConnectionState.connected:
            await self.writer.run(self.writer.writer.set_kv, OUTDATED_KV, "")

    async def wait_pairing_change(self, timeout: float) -> None:
        """Wait (bounded) until the next connection or pairing event."""
        self._pairing_changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._pairing_changed.wait(), timeout)

    def _publish(self, event: BridgeEvent) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    def _wake(self, chat_jid: str, message_id: str) -> None:
        fut = self._waiters.pop((chat_jid, message_id), None)
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def wait_ingested(self, chat_jid: str, message_id: str, timeout: float = 5.0) -> None:
        fut = asyncio.get_running_loop().create_future()
        self._waiters[(chat_jid, message_id)] = fut
        try:
            # The event may already be written; a cheap read settles it.
            with contextlib.suppress(NotFound):
                self.reader.get_message(chat_jid, message_id)
                return
            await asyncio.wait_for(fut, timeout)
        finally:
            self._waiters.pop((chat_jid, message_id), None)

    async def _stream(self) -> AsyncIterator[str]:
        """The event stream's payloads; the server adds heartbeats and closes this generator
        when the client leaves, which is when it stops counting as attached."""
        queue: asyncio.Queue[BridgeEvent | None] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        self.attached += 1
        try:
            yield BridgeEvent(type="connection", state=self.state).model_dump_json()
            while not self._stop.is_set():
                event = await queue.get()
                if event is None:
                    return
                yield event.model_dump_json()
        finally:
            self._subscribers.discard(queue)
            self.attached -= 1
            self._last_activity = time.monotonic()

    # ------------------------------------------------------------------ API

    def _routes(self) -> list[Route]:
        routes = [
            *core_routes(self),
            *pairing_routes(self),
            *messaging_routes(self),
            *autoreply_routes(self.autoreply),
            *import_routes(self),
            *security_routes(self.security),
            *schedule_routes(self.scheduler),
            *transcribe_routes(self.transcription),
        ]
        return routes

    def status(self) -> BridgeStatus:
        progress = None
        paired = self.transport.is_paired()
        advice = ADVICE[self.state]
        if not paired and self.state not in (ConnectionState.pairing, ConnectionState.logged_out):
            advice = f"{ADVICE[ConnectionState.pairing]} Meanwhile: {advice}"
        return BridgeStatus(
            state=self.state,
            detail=self.state_detail,
            advice=advice,
            paired=paired,
            account_jid=self.transport.account_jid,
            simulate=self.settings.simulate,
            transport=self.transport.name,
            history_sync_progress=progress,
            attached_clients=self.attached,
            pid=os.getpid(),
            started_at=self.started_at,
            pairing=self.pairing,
        )
