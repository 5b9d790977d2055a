# pyright: basic
"""`NeonizeTransport`: the real WhatsApp, through neonize (whatsmeow in Go), in-process.

neonize 0.5.2 cannot be trusted to return, to stop, or to survive every call
(`notes/neonize-real-behaviour.md`), so the transport never asks it to in the states where it
fails:

- A *generation* is one `NewClient` (fresh uuid) and the thread blocked in its `connect()`.
  An unpaired client is never `stop()`ped: after its QR window ends, Go spins forever in
  `FetchMe`, and `stop()` during the QR phase leaves `connect()` blocked for good. We abandon it
  instead (a strong reference is kept, or neonize's finalizer would call `Stop` on GC) and start
  a fresh generation, so a new QR code is always one request away.
- `stop()` is called only on a paired client, always behind one lock (Go's client maps have no
  lock of their own), and never waited on without a bound.
- Contacts and the LID map come from `session.db` (`session_db.py`, `directory.py`), never from
  `contact.get_all_contacts()`, which aborts the process when Go has no client.
- A graceful stop disconnects the socket first, lets neonize's channel and our queue drain,
  then stops, and only then ends the event stream, so acked events reach the store.
- Abandoned clients keep non-daemon neonize threads alive; the bridge ends with `os._exit`
  once the store is closed (`bridge/main.py`).

Go calls our handlers on its own thread, one event at a time; a handler only converts the
protobuf and hands the result to the asyncio loop, and never lets an exception escape.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

from bridge.transport.neonize.commands import NeonizeCommands
from bridge.transport.neonize.directory import DirectoryRefresher
from bridge.transport.neonize.env import prepare_neonize_environment, protect_stdout
from bridge.transport.neonize.generation import (
    UNREACHABLE,
    Generation,
    detach_finalizer,
    register_handlers,
    run_bounded,
    unreachable_detail,
)
from bridge.transport.neonize.loader import load_neonize
from bridge.transport.neonize.pairing import NeonizePairing
from bridge.transport.neonize.session_db import read_paired_account
from bridge.transport.protocol import (
    ConnectionEvent,
    ConnectionState,
    GroupEvent,
    TransportEvent,
)

__all__ = ["NeonizeTransport", "prepare_neonize_environment", "protect_stdout"]
__all__ += ["read_paired_account"]

logger = logging.getLogger(__name__)

# How long a graceful stop waits for each step; the whole stop stays well under 10 s.
DISCONNECT_WAIT = 1.5
DRAIN_QUIET = 0.3
DRAIN_MAX = 1.5
STOP_WAIT = 1.0


class NeonizeTransport(NeonizePairing, NeonizeCommands):
    """The Transport protocol over a real WhatsApp session stored at `session_path`."""

    name = "neonize"

    def __init__(
        self,
        session_path: Path,
        *,
        full_history: bool = True,
        history_days: int = 3650,
        connect_timeout: float = 30.0,
        qr_grace: float = 10.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        directory_schedule: tuple[float, ...] = (30.0, 120.0, 600.0),
        directory_every: float = 3600.0,
    ) -> None:
        self.session_path = Path(session_path)
        self._full_history = full_history
        self._history_days = history_days
        self._connect_timeout = connect_timeout
        self._qr_grace = qr_grace
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max

        self._state = ConnectionState.disconnected
        self._account_jid: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[TransportEvent | None] | None = None
        self._nz: dict[str, ModuleType] | None = None
        self._gen: Generation | None = None
        # Abandoned unpaired clients: kept alive on purpose (see the module docstring).
        self._abandoned: list[Generation] = []
        # Stopped clients stay referenced too: Go may still call their ctypes callbacks (a
        # buffered Connected after Stop()), which must not have been garbage-collected.
        self._stopped: list[Generation] = []
        self._generations = 0
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._halt = False  # permanent state or stream replaced: do not reconnect
        self._stop_lock = threading.Lock()  # every Go Stop()/Disconnect() goes through it
        # Starting a client and stop() exclude each other: nothing connects after stop() looked.
        self._start_lock = threading.Lock()
        self._last_event_at = time.monotonic()
        self.directory = DirectoryRefresher(
            self.session_path, self._emit, schedule=directory_schedule, every=directory_every
        )

    # ------------------------------------------------------------ properties

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def account_jid(self) -> str | None:
        return self._account_jid

    @property
    def _client(self) -> Any:
        return self._gen.client if self._gen is not None else None

    @property
    def abandoned_clients(self) -> int:
        return len(self._abandoned)

    def is_paired(self) -> bool:
        account = read_paired_account(self.session_path)
        if account:
            self._account_jid = self._account_jid or account
        return account is not None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._prepare()
        self.directory.start()
        if self._supervisor and self._supervisor.is_alive():
            return
        self._stopping.clear()
        self._halt = False
        self._supervisor = threading.Thread(
            target=self._supervise, name="neonize-supervisor", daemon=True
        )
        self._supervisor.start()

    def _prepare(self) -> Generation:
        """Bind to the running loop and create the next client (no network)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._queue = asyncio.Queue()
        if self._gen is not None and not self._gen.started:
            return self._gen
        return self._new_generation()

    def _new_generation(self) -> Generation:
        """Load neonize and create a client with a fresh uuid and its handlers (no network)."""
        nz = self._nz = self._nz or load_neonize()
        self.session_path.parent.mkdir(parents=True, exist_ok=True)
        paired = self.is_paired()
        props = nz["reg"].DeviceProps(os="WhatsApp MCP", platformType=nz["reg"].DeviceProps.CHROME)
        if self._full_history:
            # Only consulted when pairing: asks the phone for as much history as it will send.
            props.requireFullSync = True
            props.historySyncConfig.fullSyncDaysLimit = self._history_days
            props.historySyncConfig.fullSyncSizeMbLimit = 102400
            props.historySyncConfig.storageQuotaMb = 102400
        self._generations += 1
        uuid = f"wa-mcp-{os.getpid()}-{id(self)}-{self._generations}"
        client = nz["client"].NewClient(str(self.session_path), props=props, uuid=uuid)
        gen = Generation(client=client, uuid=uuid, paired=paired)
        # neonize's own login-status callback print()s to stdout; this instance attribute
        # shadows the name-mangled method that connect() hands to Go.
        client._NewClient__onLoginStatus = self._login_status_handler(gen)
        register_handlers(nz, gen, self)
        self._gen = gen
        return gen

    async def stop(self) -> None:
        """Disconnect, drain (bounded), stop, then end the event stream."""
        self._stopping.set()
        self.directory.stop()
        with self._start_lock:  # held only around starting a thread
            gen = self._gen
        if gen is not None and gen.started and gen.paired and not gen.done.is_set():
            await asyncio.to_thread(self._stop_generation, gen, drain=True)
        elif gen is not None:
            # Unpaired (Stop() would block or abort), idle or already returned: leave it be,
            # and keep neonize's finalizer from calling Stop() at exit.
            self._abandon(gen, "bridge stopping")
        if self._state not in (ConnectionState.logged_out, ConnectionState.outdated):
            self._set_state(ConnectionState.disconnected, "Stopped.", emit=False)
        if self._supervisor is not None:
            await asyncio.to_thread(self._supervisor.join, 1.0)
        if self._queue is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    def _stop_generation(self, gen: Generation, *, drain: bool) -> None:
        """Stop a *paired* client: socket first, let events drain, then Go's Stop()."""
        gen.retired = True
        self._stopped.append(gen)
        if drain:
            run_bounded(self._locked(gen.client.disconnect), DISCONNECT_WAIT, "disconnect")
            deadline = time.monotonic() + DRAIN_MAX
            while time.monotonic() < deadline:
                if time.monotonic() - self._last_event_at >= DRAIN_QUIET:
                    break
                time.sleep(0.05)
        run_bounded(self._locked(gen.client.stop), STOP_WAIT, "stop")
        detach_finalizer(gen.client)  # stopped once is enough; no second Stop() at exit
        gen.done.wait(STOP_WAIT)

    def _locked(self, fn: Any) -> Any:
        def call() -> None:
            with self._stop_lock:
                fn()

        return call

    def _abandon(self, gen: Generation, why: str) -> None:
        if gen.retired:
            return
        gen.retired = True
        # Strong reference: Go still calls this client's ctypes callbacks. And no Stop() from
        # neonize's finalizer, ever, not even at interpreter exit: it would block or abort.
        self._abandoned.append(gen)
        detach_finalizer(gen.client)
        logger.info("abandoning WhatsApp client %s (%s); it is never stopped", gen.uuid, why)

    async def events(self) -> AsyncIterator[TransportEvent]:  # type: ignore[override]
        if self._queue is None:
            self._loop = asyncio.get_running_loop()
            self._queue = asyncio.Queue()
        while True:
            item = await self._queue.get()
            if item is None:
                return
            yield item

    # ------------------------------------------------------------ supervisor thread

    def _supervise(self) -> None:
        delay = self._backoff_initial
        while not self._stopping.is_set() and not self._halt:
            gen = self._gen if self._gen is not None and not self._gen.started else None
            if gen is None:
                try:
                    gen = self._new_generation()
                except Exception:
                    logger.exception("could not create a neonize client")
                    if self._stopping.wait(delay):
                        return
                    continue
            with self._start_lock:
                if self._stopping.is_set():
                    return
                # Before the dial starts: its QR code (from Go's thread) may come at once and
                # must not be overwritten by a "connecting" told after it.
                self._set_state(ConnectionState.connecting, "Connecting to WhatsApp…")
                gen.start(self._connect_timeout)
            reason = self._watch(gen)
            if self._stopping.is_set() or self._halt:
                return
            if reason in ("qr-expired", "pair-error"):
                self._abandon(gen, reason)
                delay = self._backoff_initial
                continue  # a fresh client offers a fresh QR straight away
            if reason == "connect-failure":
                self._stop_generation(gen, drain=False)
            if gen.connected_once:
                delay = self._backoff_initial
            detail = gen.failure or "connection closed"
            self._set_state(ConnectionState.disconnected, unreachable_detail(detail, delay))
            if reason != "connect-failure":
                # connect() returned by itself (a failed dial): Go is done with this attempt,
                # so the same client connects again; a new one per retry would leak Go clients.
                gen.reset_for_retry()
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, self._backoff_max)

    def _watch(self, gen: Generation) -> str | None:
        """Wait until the generation ends or must be replaced; returns why."""
        slow_reported = False
        while not self._stopping.wait(0.2):
            if gen.done.is_set():
                return gen.restart_reason
            if gen.restart_reason is not None:
                return gen.restart_reason
            now = time.monotonic()
            if gen.qr_deadline is not None and now > gen.qr_deadline and not gen.paired:
                # Backstop for a "timeout" login status that never came.
                return "qr-expired"
            # A dial that hangs is not stopped: Stop() would only queue behind whatsmeow's
            # socket lock, and whatsmeow gives the dial up by itself after about 60 s.
            if (
                not slow_reported
                and self._state is ConnectionState.connecting
                and gen.qr_deadline is None
                and now - gen.clock > self._connect_timeout
            ):
                slow_reported = True
                self._set_state(
                    ConnectionState.connecting,
                    f"{UNREACHABLE}no answer within {self._connect_timeout:.0f} s; "
                    "still trying (WhatsApp gives a dial up after about 60 s).",
                )
        return None

    # ------------------------------------------------------------ event plumbing

    def _emit(self, event: TransportEvent | None) -> None:
        if event is None or self._loop is None or self._queue is None:
            return
        self._last_event_at = time.monotonic()
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:  # loop closed during shutdown
            logger.debug("event loop closed; dropping %s", type(event).__name__)

    def _set_state(self, state: ConnectionState, detail: str | None, *, emit: bool = True) -> None:
        self._state = state
        if emit:
            self._emit(ConnectionEvent(state=state, detail=detail, account_jid=self._account_jid))

    def on_connection(
        self, gen: Generation, event: ConnectionEvent, *, restart: str | None
    ) -> None:
        """A converted connection event from `gen` (called on Go's thread)."""
        if gen.retired:
            # e.g. a Connected that neonize still delivers after Stop(): nothing to act on.
            logger.debug("ignoring %s from retired client %s", event.state.value, gen.uuid)
            return
        if event.account_jid:
            self._account_jid = event.account_jid
        if event.state is ConnectionState.connected:
            gen.connected_once = True
            self.directory.on_connected()
            threading.Thread(target=self._refresh_groups, args=(gen,), daemon=True).start()
        self._state = event.state
        if event.state in (
            ConnectionState.logged_out,
            ConnectionState.outdated,
            ConnectionState.banned,
            ConnectionState.stream_replaced,
        ):
            self._halt = True
            if gen.paired:
                threading.Thread(
                    target=self._stop_generation, args=(gen,), kwargs={"drain": False}, daemon=True
                ).start()
        elif restart is not None:
            gen.restart_reason = restart
        self._emit(event.model_copy(update={"account_jid": self._account_jid}))

    def _refresh_groups(self, gen: Generation) -> None:
        """Group names and members. Unlike get_all_contacts, GetJoinedGroups only raises
        ("client is nil") when Go has no client, so a late or retired call is harmless."""
        nz = self._nz
        if nz is None or gen.retired:
            return
        convert = nz["convert"]
        try:
            for info in gen.client.get_joined_groups():
                group = convert.group_record(info)
                if group is not None:
                    self._emit(GroupEvent(group=group))
        except Exception as exc:
            logger.warning("could not read WhatsApp groups: %s", exc)

    async def logout(self) -> None:
        client, _ = self._require_connected()
        await self._call("log out", client.logout)
        self._halt = True
        self._set_state(ConnectionState.logged_out, "Logged out; pair again to reconnect.")
        # Keep the event stream open: the bridge stays up and can pair again with start().
        gen = self._gen
        if gen is not None:
            await asyncio.to_thread(self._stop_generation, gen, drain=False)
        if self._supervisor is not None:
            await asyncio.to_thread(self._supervisor.join, 2.0)
