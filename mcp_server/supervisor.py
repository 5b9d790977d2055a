"""Finds, starts and watches the bridge from an MCP server.

The server attaches by holding the bridge's event stream open; when the stream drops, the
bridge has died or is restarting, and the supervisor brings it back with jittered backoff and a
crash-loop breaker. Tools never wait longer than `bridge_start_timeout` for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import subprocess
import sys
import time
from collections import deque

from bridge.control_client import BridgeError, BridgeUnavailable, ControlClient
from bridge.paths import DataPaths
from bridge.settings import Settings, settings_env

log = logging.getLogger(__name__)

_CRASH_WINDOW = 60.0
_CRASH_LIMIT = 5


def _log_tail(paths: DataPaths, lines: int = 5) -> str:
    try:
        text = paths.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


class BridgeSupervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths = DataPaths(settings.data_dir)
        self.client = ControlClient(self.paths, tcp=settings.control_transport == "tcp")
        self.last_error: str | None = None
        self._healthy = asyncio.Event()
        self._poke = asyncio.Event()
        self._spawns: deque[float] = deque(maxlen=_CRASH_LIMIT)
        self._children: list[subprocess.Popen[bytes]] = []

    @property
    def healthy(self) -> bool:
        return self._healthy.is_set()

    async def run(self) -> None:
        """Keep a bridge running and stay attached to it, until cancelled."""
        backoff = 0.2
        while True:
            try:
                await self._ensure_running()
                self._healthy.set()
                self.last_error = None
                backoff = 0.2
                async for _ in self.client.events():
                    pass
                self.last_error = "the bridge closed its event stream"
            except BridgeError as exc:
                self.last_error = exc.message
            except OSError as exc:
                self.last_error = str(exc)
            self._healthy.clear()
            self._reap()
            delay = backoff * (1 + random.random())
            backoff = min(backoff * 2, 10.0)
            self._poke.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._poke.wait(), delay)

    def poke(self) -> None:
        """A tool saw the bridge fail: check again now instead of after the backoff."""
        self._healthy.clear()
        self._poke.set()

    async def ready(self, timeout: float | None = None) -> ControlClient:
        """The control client once the bridge is healthy; BridgeUnavailable after the bound."""
        if self._healthy.is_set():
            return self.client
        try:
            await asyncio.wait_for(
                self._healthy.wait(), timeout or self.settings.bridge_start_timeout
            )
        except asyncio.TimeoutError:
            reason = self.last_error or "it did not become healthy in time"
            raise BridgeUnavailable(
                f"The WhatsApp bridge is unavailable ({reason}). Reading stored messages still "
                f"works. Details are in {self.paths.log}."
            ) from None
        return self.client

    async def start_bridge(self) -> ControlClient:
        """Make sure a bridge runs (spawning one if needed), without staying attached: for CLI
        commands."""
        await self._ensure_running()
        return self.client

    async def _ensure_running(self) -> None:
        with contextlib.suppress(BridgeError):
            await self.client.health()
            return
        now = time.monotonic()
        if len(self._spawns) == _CRASH_LIMIT and now - self._spawns[0] < _CRASH_WINDOW:
            raise BridgeUnavailable(
                f"the bridge crashed {_CRASH_LIMIT} times in a minute, so it is not restarted "
                f"for now; last log lines: {_log_tail(self.paths)}"
            )
        self._spawns.append(now)
        proc = self._spawn()
        deadline = now + self.settings.bridge_start_timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(BridgeError):
                await self.client.health(timeout=1.0)
                return
            code = proc.poll()
            # Exit 0 means another server's bridge won the lock race: keep polling for it.
            if code not in (None, 0):
                raise BridgeUnavailable(
                    f"the bridge exited with code {code}: {_log_tail(self.paths)}"
                )
            await asyncio.sleep(0.05)
        raise BridgeUnavailable(f"the bridge did not become healthy: {_log_tail(self.paths)}")

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
        self._children.append(proc)
        return proc

    def _reap(self) -> None:
        self._children = [p for p in self._children if p.poll() is None]
