"""State shared by the tools of one MCP server process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Protocol, TypeVar

import anyio

from bridge.control.client import BridgeError, ControlClient
from bridge.control.models import BridgeEvent
from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.live import LiveHub
from mcp_server.supervisor import BridgeSupervisor
from store.db import open_reader
from store.errors import StoreError
from store.reader import StoreReader

R = TypeVar("R")


class Supervising(Protocol):
    """What the tools need of the bridge's supervisor (tests run one bridge in-process)."""

    # Called with every event of the bridge's stream (issue 16: waiting tools, push).
    listeners: list[Callable[[BridgeEvent], None]]
    # Issue 13: why writes are refused while the bridge's security settings differ, and what
    # get_status says about them.
    security_mismatch: str | None
    security_note: str | None

    @property
    def healthy(self) -> bool: ...

    async def run(self) -> None: ...

    async def ready(self, timeout: float | None = None) -> ControlClient: ...


class App:
    def __init__(self, settings: Settings, *, supervisor: Supervising | None = None) -> None:
        self.settings = settings
        self.paths = DataPaths(settings.data_dir)
        self.supervisor: Supervising = supervisor or BridgeSupervisor(settings)
        self._reader: StoreReader | None = None
        # issue 16: the bridge's events for waiting tools and push services.
        self.live = LiveHub()
        self.supervisor.listeners.append(self.live.publish)
        self.services: list[Callable[[], Coroutine[Any, Any, None]]] = []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[App]:
        """Start supervising the bridge in the background; answers `initialize` at once."""
        task = asyncio.create_task(self.supervisor.run(), name="bridge-supervisor")
        tasks = [task, *(asyncio.create_task(service()) for service in self.services)]
        try:
            yield self
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    async def reader(self) -> StoreReader:
        """The read-only store; on a fresh data dir it appears once the bridge has created it."""
        if self._reader is not None:
            return self._reader
        deadline = time.monotonic() + self.settings.bridge_start_timeout
        while True:
            try:
                self._reader = StoreReader(open_reader(self.paths.messages_db))
                return self._reader
            except StoreError:
                if time.monotonic() >= deadline or self.paths.messages_db.exists():
                    raise
            await asyncio.sleep(0.05)

    async def read(self, fn: Callable[[StoreReader], R]) -> R:
        """Run a store query off the event loop."""
        reader = await self.reader()
        return await anyio.to_thread.run_sync(fn, reader)

    async def bridge(self) -> ControlClient:
        return await self.supervisor.ready()

    async def write_bridge(self) -> ControlClient:
        """The bridge, for a call that changes something on WhatsApp: refused while the bridge
        runs with other security settings than this server (mcp_server/supervisor.py)."""
        client = await self.supervisor.ready()
        mismatch = self.supervisor.security_mismatch
        if mismatch is not None:
            raise BridgeError(409, "settings_differ", mismatch.removeprefix("settings_differ: "))
        return client
