"""State shared by the tools of one MCP server process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio

from bridge.control.client import BridgeError, ControlClient
from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.supervisor import BridgeSupervisor
from store.db import open_reader
from store.errors import StoreError
from store.reader import StoreReader

R = TypeVar("R")


class App:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths = DataPaths(settings.data_dir)
        self.supervisor = BridgeSupervisor(settings)
        self._reader: StoreReader | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[App]:
        """Start supervising the bridge in the background; answers `initialize` at once."""
        task = asyncio.create_task(self.supervisor.run(), name="bridge-supervisor")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

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
