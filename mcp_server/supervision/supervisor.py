"""Finds, starts and watches the bridge from an MCP server.

The server attaches by holding the bridge's event stream open. Three things end an attachment:

- the stream drops: the bridge died or is restarting. The supervisor brings it back with
  jittered backoff and a crash-loop breaker (at most `_CRASH_LIMIT` spawns a minute);
- health checks time out while the socket still accepts connections: the bridge is hung. It is
  replaced: SIGTERM to the PID in `bridge.lock`, SIGKILL after a grace period, then a new one;
- the bridge exits with a code that says restarting cannot help (a damaged or too-new store, bad
  settings). Then nothing is restarted until a tool asks again after `_DOWN_RETRY` seconds.

A bridge in a permanent WhatsApp state (logged out, outdated, banned) stays up and reports the
state, so there is nothing to restart. Tools never wait longer than `bridge_start_timeout`, and
fail at once, with the reason, while the bridge is known to be down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError, BridgeUnavailable
from bridge.control.exit_codes import EXIT_BAD_SETTINGS, EXIT_STORE_UNUSABLE
from bridge.control.lifecycle import clear_user_stopped, service_record, user_stopped
from bridge.control.lockfile import holder_pid, lock_is_held
from bridge.control.models import BridgeEvent
from bridge.paths import DataPaths
from bridge.settings import Settings, settings_env
from mcp_server.supervision import settings_check

log = logging.getLogger(__name__)

_CRASH_WINDOW = 60.0
_CRASH_LIMIT = 5
_DOWN_RETRY = 30.0


def _log_tail(paths: DataPaths, lines: int = 5) -> str:
    try:
        text = paths.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


class BridgeDown(BridgeUnavailable):
    """The bridge cannot run right now and restarting it would not help before `retry_at`."""

    def __init__(self, message: str, retry_at: float, *, auto_retry: bool) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        # False: wait for a tool to ask (a restart would fail the same way until someone acts).
        self.auto_retry = auto_retry


class BridgeSupervisor:
    def __init__(
        self,
        settings: Settings,
        *,
        health_interval: float = 10.0,
        health_timeout: float = 5.0,
        hung_after: int = 2,
        kill_grace: float = 5.0,
    ) -> None:
        self.settings = settings
        self.paths = DataPaths(settings.data_dir)
        self.client = ControlClient(self.paths, tcp=settings.control_transport == "tcp")
        self.last_error: str | None = None
        # A bridge is hung after `hung_after` health checks in a row time out.
        self.health_interval = health_interval
        self.health_timeout = health_timeout
        self.hung_after = hung_after
        self.kill_grace = kill_grace
        self.spawned = 0
        self.replaced_hung = 0
        self._down: BridgeDown | None = None
        self._healthy = asyncio.Event()
        self._poke = asyncio.Event()
        self._spawns: deque[float] = deque(maxlen=_CRASH_LIMIT)
        self._children: list[subprocess.Popen[bytes]] = []
        # Called with every event of the bridge's stream (mcp_server.live.LiveHub.publish).
        self.listeners: list[Callable[[BridgeEvent], None]] = []
        # A tool (or a CLI command) asked for the bridge since `whatsapp-mcp stop`.
        self._asked = False
        # Issue 13: what get_status reports about the bridge's security settings, and why writes
        # are refused while they differ from this server's (see reconcile_security).
        self.security_note: str | None = None
        self.security_mismatch: str | None = None

    @property
    def healthy(self) -> bool:
        return self._healthy.is_set()

    @property
    def down(self) -> str | None:
        """Why no bridge runs now and none is being started (a tripped crash breaker, a stop,
        a store it cannot open); None while one runs or is on its way."""
        return None if self._down is None else self._down.message

    async def run(self) -> None:
        """Keep a bridge running and stay attached to it, until cancelled."""
        backoff = 0.2
        while True:
            try:
                await self._ensure_running()
                self._asked = False  # only a request made while it is down undoes a stop
                await self.reconcile_security()
                self._down = None
                self._healthy.set()
                self.last_error = None
                backoff = 0.2
                await self._attached()
            except BridgeDown as exc:
                self._down = exc
                self.last_error = exc.message
            except BridgeError as exc:
                self.last_error = exc.message
            except OSError as exc:
                self.last_error = str(exc)
            self._healthy.clear()
            self._reap()
            self._poke.clear()
            if self._down is not None:
                log.warning("bridge down: %s", self._down.message)
                if not self._down.auto_retry:
                    # Restarting cannot help: only a tool asking after retry_at tries again, so
                    # a broken store costs one failed start per retry period, not a loop.
                    await self._poke.wait()
                    continue
                delay = max(0.0, self._down.retry_at - time.monotonic())
            else:
                delay = backoff * (1 + random.random())
                backoff = min(backoff * 2, 10.0)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._poke.wait(), delay)

    async def reconcile_security(self) -> None:
        """Register this server's security settings with the bridge; restart it or refuse
        writes when they differ (mcp_server/supervision/settings_check.py)."""
        await settings_check.reconcile(self)

    def poke(self) -> None:
        """A tool saw the bridge fail: check again now instead of after the backoff."""
        self._healthy.clear()
        self._poke.set()

    async def ready(self, timeout: float | None = None) -> ControlClient:
        """The control client once the bridge is healthy; BridgeUnavailable after the bound, or
        at once while the bridge is known to be down."""
        if self._healthy.is_set():
            if await self._reachable():
                return self.client
            self.poke()  # died since the last check: the supervisor restarts it now
        self._asked = True  # a tool needs the bridge: this undoes a `whatsapp-mcp stop`
        down = self._down
        if down is not None:
            if time.monotonic() < down.retry_at:
                raise BridgeUnavailable(self._unavailable(down.message))
            self._down = None
            self.poke()
        try:
            await asyncio.wait_for(
                self._healthy.wait(), timeout or self.settings.bridge_start_timeout
            )
        except TimeoutError:
            reason = self.last_error or "it did not become healthy in time"
            raise BridgeUnavailable(self._unavailable(reason)) from None
        return self.client

    def _unavailable(self, reason: str) -> str:
        return (
            f"The WhatsApp bridge is unavailable ({reason}). Reading stored messages still "
            f"works. Details are in {self.paths.log}."
        )

    async def _reachable(self) -> bool:
        """Whether something listens on the control socket: a dead bridge's socket refuses at
        once, so a tool learns of a crash without waiting for a timeout."""
        try:
            if self.client.tcp:
                port = int(self.paths.port_file.read_text(encoding="utf-8").strip())
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            else:
                _, writer = await asyncio.open_unix_connection(
                    str(self.paths.socket_connect_path())
                )
        except (OSError, ValueError):
            return False
        writer.close()
        return True

    # ------------------------------------------------------------------ attached

    async def _attached(self) -> None:
        """Hold the event stream, watching health beside it; returns when either ends."""
        stream = asyncio.create_task(self._drain_events())
        watch = asyncio.create_task(self._watch_health())
        try:
            done, _ = await asyncio.wait({stream, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, watch):
                task.cancel()
            for task in (stream, watch):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for task in done:
            exc = task.exception()
            if exc is not None:
                raise exc

    async def _drain_events(self) -> None:
        async for event in self.client.events():
            for listener in list(self.listeners):
                listener(event)
        self.last_error = "the bridge closed its event stream"

    async def _watch_health(self) -> None:
        misses = 0
        while True:
            await asyncio.sleep(self.health_interval)
            try:
                await self.client.health(timeout=self.health_timeout)
                misses = 0
            except BridgeUnavailable as exc:
                self.last_error = exc.message  # gone: the stream ends too; restart
                return
            except BridgeError as exc:
                if exc.code != "bridge_timeout":
                    raise
                misses += 1
                if misses >= self.hung_after:
                    await self._replace_hung()
                    return

    # ------------------------------------------------------------------ starting

    async def start_bridge(self) -> ControlClient:
        """Make sure a bridge runs (spawning one if needed), without staying attached: for CLI
        commands such as `login`."""
        self._asked = True
        await self._ensure_running()
        return self.client

    async def _ensure_running(self) -> None:
        misses = 0
        while True:
            try:
                await self.client.health(timeout=self.health_timeout if misses else 2.0)
                return
            except BridgeError as exc:
                if exc.code != "bridge_timeout":
                    break
            # The socket accepts connections but nobody answers: a hung bridge.
            misses += 1
            if misses >= self.hung_after:
                await self._replace_hung()
                break
        self._may_spawn()
        now = time.monotonic()
        if len(self._spawns) == _CRASH_LIMIT and now - self._spawns[0] < _CRASH_WINDOW:
            raise BridgeDown(
                f"the bridge crashed {_CRASH_LIMIT} times in a minute, so it is not restarted "
                f"for now; last log lines: {_log_tail(self.paths)}",
                retry_at=self._spawns[0] + _CRASH_WINDOW,
                auto_retry=True,
            )
        self._spawns.append(now)
        proc = self._spawn()
        deadline = now + self.settings.bridge_start_timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(BridgeError):
                await self.client.health(timeout=1.0)
                return
            code = proc.poll()
            if code in (EXIT_STORE_UNUSABLE, EXIT_BAD_SETTINGS):
                raise BridgeDown(
                    f"the bridge cannot start: {_log_tail(self.paths, 2)}",
                    retry_at=time.monotonic() + _DOWN_RETRY,
                    auto_retry=False,
                )
            # Exit 0 means another server's bridge won the lock race: keep polling for it.
            if code not in (None, 0):
                raise BridgeUnavailable(
                    f"the bridge exited with code {code}: {_log_tail(self.paths)}"
                )
            await asyncio.sleep(0.05)
        raise BridgeUnavailable(f"the bridge did not become healthy: {_log_tail(self.paths)}")

    async def _replace_hung(self) -> None:
        """SIGTERM the lock holder, SIGKILL it after the grace period, wait for the lock."""
        self._may_kill()
        pid = holder_pid(self.paths.lock)
        if pid is None or pid <= 1 or pid == os.getpid() or not lock_is_held(self.paths.lock):
            raise BridgeUnavailable(
                "the bridge accepts connections but does not answer, and no bridge process "
                f"holds {self.paths.lock}"
            )
        log.warning(
            "bridge pid %d did not answer %d health checks within %.1f s: replacing it",
            pid,
            self.hung_after,
            self.health_timeout,
        )
        self.replaced_hung += 1
        for sig, wait in ((signal.SIGTERM, self.kill_grace), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                self._reap()
                if not lock_is_held(self.paths.lock):
                    self.last_error = f"the bridge (pid {pid}) hung and was replaced"
                    return
                await asyncio.sleep(0.05)
        raise BridgeUnavailable(f"the hung bridge (pid {pid}) could not be stopped")

    # ------------------------------------------------------------------ who owns the bridge

    def _may_spawn(self) -> None:
        """Raise BridgeDown when this server must not start a bridge now: a service manager
        owns it (bridge/control/lifecycle.py), or the user stopped it and no tool asked since."""
        record = service_record(self.paths)
        if record is not None:
            raise BridgeDown(
                f"the bridge runs as a {record.manager} service and is not answering; check it "
                f"with `whatsapp-mcp service status` (servers never start a service's bridge)",
                retry_at=time.monotonic() + 5.0,
                auto_retry=True,
            )
        if user_stopped(self.paths):
            if not self._asked:
                raise BridgeDown(
                    "it was stopped with `whatsapp-mcp stop`; the next tool call starts it again",
                    retry_at=time.monotonic(),
                    auto_retry=False,
                )
            clear_user_stopped(self.paths)
        self._asked = False

    def _may_kill(self) -> None:
        record = service_record(self.paths)
        if record is not None:
            raise BridgeUnavailable(
                f"the {record.manager} service's bridge accepts connections but does not answer; "
                f"restart it with `{record.stop_command}` and start it again"
            )

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.paths.ensure()
        env = {**os.environ, **settings_env(self.settings)}
        fd = os.open(self.paths.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            # A new session: the bridge outlives this server and the host's process-group kill.
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bridge",
                    "--idle-exit",
                    str(self.settings.bridge_idle_exit),
                    "--log-file",
                    str(self.paths.log),
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=fd,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(fd)
        log.info("started bridge pid %d", proc.pid)
        self.spawned += 1
        self._children.append(proc)
        return proc

    def _reap(self) -> None:
        self._children = [p for p in self._children if p.poll() is None]
