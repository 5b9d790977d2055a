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
from datetime import datetime, timezone
from pathlib import Path

from bridge.autoreply.engine import AutoReplyEngine
from bridge.control.advice import ADVICE
from bridge.control.models import (
    BridgeEvent,
    BridgeStatus,
    Health,
    InboundRequest,
    InboundResponse,
    PairingInfo,
    SendResponse,
    SendTextRequest,
    StopResponse,
)
from bridge.control.qr import qr_png
from bridge.ingest.events import apply_event
from bridge.ingest.writer_thread import WriterThread
from bridge.paths import DataPaths, write_private, write_private_bytes
from bridge.scheduler import Scheduler
from bridge.send.gate import open_gate
from bridge.send.sender import Sender, SendRefused
from bridge.server.app import ControlServer, Route
from bridge.server.http import HttpError
from bridge.server.routes_autoreply import routes as autoreply_routes
from bridge.server.routes_messaging import routes as messaging_routes
from bridge.server.routes_pairing import routes as pairing_routes
from bridge.server.routes_schedule import routes as schedule_routes
from bridge.server.routes_transcribe import routes as transcribe_routes
from bridge.settings import Settings
from bridge.transcribe import Transcription
from bridge.transport.protocol import (
    ConnectionEvent,
    ConnectionState,
    MessageEvent,
    NotConnected,
    PairingEvent,
    Transport,
    TransportError,
    TransportEvent,
)
from store import sync_state
from store.errors import Ambiguous, InvalidArgument, NotFound, StoreError
from store.reader import StoreReader

log = logging.getLogger(__name__)

_HEARTBEAT = 15.0


def map_error(exc: Exception) -> HttpError | None:
    """Domain errors → HTTP status and a message the caller can act on."""
    if isinstance(exc, SendRefused):
        return HttpError(403, exc.code, str(exc))
    if isinstance(exc, NotFound):
        return HttpError(404, "not_found", str(exc))
    if isinstance(exc, Ambiguous):
        return HttpError(409, "ambiguous", str(exc))
    if isinstance(exc, InvalidArgument):
        return HttpError(422, "invalid_argument", str(exc))
    if isinstance(exc, NotConnected):
        return HttpError(503, "not_connected", str(exc))
    if isinstance(exc, TransportError):
        return HttpError(502, "whatsapp_error", str(exc))
    if isinstance(exc, StoreError):
        return HttpError(500, "store_error", str(exc))
    return None


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
        self.autoreply = AutoReplyEngine(
            settings, transport=transport, sender=self.sender, writer=writer, reader=reader
        )
        self.scheduler = Scheduler(
            settings, transport=transport, sender=self.sender, writer=writer, reader=reader
        )
        self.transcription = Transcription(self)
        self.idle_exit = idle_exit
        self.started_at = datetime.now(timezone.utc)
        self.state = ConnectionState.disconnected
        self.state_detail: str | None = None
        self.pairing: PairingInfo | None = None
        self.attached = 0
        self._last_activity = time.monotonic()
        self._stop = asyncio.Event()
        self._subscribers: set[asyncio.Queue[BridgeEvent]] = set()
        self._waiters: dict[tuple[str, str], asyncio.Future[None]] = {}
        self._server: ControlServer | None = None
        self._pairing_changed = asyncio.Event()
        self._bound_socket: Path | None = None

    # ------------------------------------------------------------------ lifecycle

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        token = secrets.token_urlsafe(32)
        write_private(self.paths.token, token)
        self._server = ControlServer(
            token,
            self._routes(),
            streams={"/api/events": self._stream},
            map_error=map_error,
            on_request=self._touch,
        )
        await self.autoreply.start()
        await self.scheduler.start()
        await self.transcription.start()
        await self._bind()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        tasks = [
            asyncio.create_task(self._consume(), name="ingest"),
            asyncio.create_task(self._idle_watch(), name="idle"),
        ]
        await self.transport.start()
        log.info("bridge ready (pid %d, transport %s)", os.getpid(), self.transport.name)
        try:
            await self._stop.wait()
        finally:
            log.info("bridge stopping")
            await self._server.close()
            self._unbind()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await self.autoreply.stop()
            with contextlib.suppress(Exception):
                await self.scheduler.stop()
            with contextlib.suppress(Exception):
                await self.transcription.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.transport.stop(), 5)

    async def _bind(self) -> None:
        assert self._server is not None
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

    def _touch(self) -> None:
        """Any authenticated request counts as activity for the idle timer."""
        self._last_activity = time.monotonic()

    def keep_alive(self) -> bool:
        """Reasons to stay up with nobody attached: an auto-reply rule is on, or a scheduled
        send is pending."""
        return self.autoreply.active() or self.scheduler.active()

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
        for item in published:
            self._publish(item)
        if isinstance(event, MessageEvent):
            chat = published[0].chat_jid if published else None
            self._wake(chat or event.message.chat_jid, event.message.id)
            # Every inbound delivery, new or repeated: the auto-reply ledger dedups, not ingest.
            self.autoreply.on_message(event.message)
            self.transcription.on_message(event.message)

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

    async def _stream(self, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[BridgeEvent] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        self.attached += 1
        try:
            hello = BridgeEvent(type="connection", state=self.state)
            writer.write(f"data: {hello.model_dump_json()}\n\n".encode())
            await writer.drain()
            while not self._stop.is_set():
                try:
                    event = await asyncio.wait_for(queue.get(), _HEARTBEAT)
                    writer.write(f"data: {event.model_dump_json()}\n\n".encode())
                except asyncio.TimeoutError:
                    writer.write(b": ping\n\n")
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._subscribers.discard(queue)
            self.attached -= 1
            self._last_activity = time.monotonic()

    # ------------------------------------------------------------------ API

    def _routes(self) -> list[Route]:
        routes = [
            Route("GET", "/health", self._health),
            Route("GET", "/api/status", self._status),
            Route("POST", "/api/send", self._send, SendTextRequest),
            Route("POST", "/api/stop", self._stop_route),
            *pairing_routes(self),
            *messaging_routes(self),
            *autoreply_routes(self.autoreply),
            *schedule_routes(self.scheduler),
            *transcribe_routes(self.transcription),
        ]
        if self.settings.simulate:
            routes.append(Route("POST", "/api/simulate/inbound", self._inbound, InboundRequest))
        return routes

    async def _health(self, _: object) -> Health:
        self._last_activity = time.monotonic()
        return Health(pid=os.getpid(), simulate=self.settings.simulate)

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

    async def _status(self, _: object) -> BridgeStatus:
        status = self.status()
        raw = await self.writer.run(self.writer.writer.get_kv, sync_state.KV_KEY)
        state = sync_state.parse(raw)
        if state is not None:
            status.history_sync_progress = state.progress
            status.history_sync = state
        return status

    async def _send(self, req: SendTextRequest) -> SendResponse:
        self._last_activity = time.monotonic()
        return await self.sender.send_text(req)

    async def _stop_route(self, _: object) -> StopResponse:
        asyncio.get_running_loop().call_later(0.05, self.request_stop)
        return StopResponse()

    async def _inbound(self, req: InboundRequest) -> InboundResponse:
        inject = getattr(self.transport, "inject_inbound", None)
        if inject is None:  # pragma: no cover - route exists only in simulate mode
            raise HttpError(404, "not_found", "Injection exists only in simulate mode.")
        record = await inject(req.sender, req.text, req.chat, push_name=req.push_name)
        chat = await self.writer.run(self.writer.writer.resolve_jid, record.chat_jid)
        await self.wait_ingested(chat, record.id)
        return InboundResponse(
            id=record.id, chat_jid=chat, sender=record.sender or "", timestamp=record.timestamp
        )
