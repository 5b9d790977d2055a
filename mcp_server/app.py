"""State shared by the tools of one MCP server process.

Light to import on purpose: the server answers `initialize` before the supervisor, the store
reader and the bridge's wire models are loaded (see `App.start_supervising`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio

from bridge.control.errors import BridgeError
from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.live import LiveHub
from store.errors import StoreError

if TYPE_CHECKING:
    from bridge.control.client import ControlClient
    from bridge.control.models import BridgeEvent
    from mcp_server.readiness import Readiness
    from store.reader import StoreReader

# If no message follows `initialize` (a host that connects and idles), supervising starts
# anyway after this long, so the bridge is up and syncing before the first tool call.
SUPERVISE_ANYWAY_AFTER = 2.0

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

    @property
    def down(self) -> str | None: ...

    async def run(self) -> None: ...

    async def ready(self, timeout: float | None = None) -> ControlClient: ...


class App:
    def __init__(self, settings: Settings, *, supervisor: Supervising | None = None) -> None:
        self.settings = settings
        self.paths = DataPaths(settings.data_dir)
        self._reader: StoreReader | None = None
        # issue 16: the bridge's events for waiting tools and push services.
        self.live = LiveHub()
        self._supervisor: Supervising | None = None
        if supervisor is not None:
            self._adopt(supervisor)
        self.services: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._go = asyncio.Event()
        self._readiness: Readiness | None = None

    def _adopt(self, supervisor: Supervising) -> Supervising:
        supervisor.listeners.append(self.live.publish)
        self._supervisor = supervisor
        return supervisor

    @property
    def supervisor(self) -> Supervising:
        """The bridge's supervisor, built on first use (its imports are most of the server's
        own start-up cost, and `initialize` needs none of them)."""
        if self._supervisor is not None:
            return self._supervisor
        from mcp_server.supervision.supervisor import BridgeSupervisor

        return self._adopt(BridgeSupervisor(self.settings))

    def start_supervising(self) -> None:
        """Called once the host holds its `initialize` answer (server.py's middleware, on the
        next message) or when a tool needs the bridge, whichever is first."""
        self._go.set()

    async def _supervise(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SUPERVISE_ANYWAY_AFTER):
                await self._go.wait()
        await self.supervisor.run()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[App]:
        """Start supervising the bridge in the background; answers `initialize` at once."""
        task = asyncio.create_task(self._supervise(), name="bridge-supervisor")
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
        self.start_supervising()  # a fresh data dir gets its store from the bridge
        from store.db import open_reader
        from store.reader import StoreReader

        deadline = time.monotonic() + self.settings.bridge_start_timeout
        while True:
            try:
                self._reader = StoreReader(open_reader(self.paths.messages_db))
                return self._reader
            except StoreError:
                if time.monotonic() >= deadline or self.paths.messages_db.exists():
                    raise
            await asyncio.sleep(0.05)

    async def store_ready(self) -> str:
        """Wait (bounded) until the store's answers can be trusted: it exists and, in simulate
        mode, the seeded world is in (mcp_server/readiness.py). "" when ready, else why not.

        One per server process, for reads and for the writes that judge by what the store
        knows (who is a saved contact, which chat a name means)."""
        if self._readiness is None:
            from mcp_server.readiness import Readiness

            self._readiness = Readiness(self)
        return await self._readiness.wait()

    async def read(self, fn: Callable[[StoreReader], R]) -> R:
        """Run a store query off the event loop."""
        reader = await self.reader()
        return await anyio.to_thread.run_sync(fn, reader)

    async def bridge(self) -> ControlClient:
        self.start_supervising()
        return await self.supervisor.ready()

    async def write_bridge(self) -> ControlClient:
        """The bridge, for a call that changes something on WhatsApp: refused while the bridge
        runs with other security settings than this server
        (mcp_server/supervision/settings_check.py)."""
        client = await self.bridge()
        mismatch = self.supervisor.security_mismatch
        if mismatch is not None:
            raise BridgeError(409, "settings_differ", mismatch.removeprefix("settings_differ: "))
        return client
