"""The in-process seam: the MCP server and a bridge on SimulatedTransport in one event loop.

The bridge is the real `Bridge` (same routes, gate, store writer, ingest) and the server the
real `build_server` with the real MCP SDK client; the only thing missing is the socket: the
server's `ControlClient` reaches the bridge's Starlette app through `httpx2.ASGITransport`.
Use it for tests about tools. Tests about processes (supervision, singleton lock, crashes,
stdio purity) spawn real processes instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx2
from mcp import Client

from bridge.control.client import ControlClient
from bridge.control.lockfile import BridgeLock
from bridge.control.models import BridgeEvent
from bridge.daemon import Bridge
from bridge.ingest.writer_thread import WriterThread
from bridge.main import make_transport
from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.app import App
from mcp_server.server import build_server
from store.db import open_reader, open_writer
from store.reader import StoreReader
from store.writer import StoreWriter


class LocalSupervisor:
    """Stands in for `BridgeSupervisor`: the bridge is already running, in this process."""

    def __init__(self, client: ControlClient) -> None:
        self.client = client
        # The ASGI transport carries no event stream: nothing is published to these.
        self.listeners: list[Callable[[BridgeEvent], None]] = []
        self.security_mismatch: str | None = None
        self.security_note: str | None = None

    @property
    def healthy(self) -> bool:
        return True

    @property
    def down(self) -> str | None:
        return None

    async def run(self) -> None:
        return None

    async def ready(self, timeout: float | None = None) -> ControlClient:
        return self.client


@dataclass
class InProcess:
    client: Client
    bridge: Bridge
    control: ControlClient


@contextlib.asynccontextmanager
async def bridge_in_process(settings: Settings) -> AsyncIterator[tuple[Bridge, ControlClient]]:
    """A running bridge for `settings` (simulate mode) and a control client wired to it."""
    paths = DataPaths(settings.data_dir)
    paths.ensure()
    lock = BridgeLock(paths.lock)
    lock.acquire()  # the data dir is this test's: nobody else may start a bridge on it
    conn = open_writer(paths.messages_db)
    writer = StoreWriter(conn)
    writer.set_kv("transport_kind", "simulated")
    reader = StoreReader(open_reader(paths.messages_db))
    wt = WriterThread(writer)
    bridge = Bridge(settings, make_transport(settings), wt, reader, idle_exit=None)
    try:
        async with bridge.serving() as asgi:
            control = ControlClient(paths, transport=httpx2.ASGITransport(asgi))
            await bridge.transport.start()
            yield bridge, control
    finally:
        wt.close()
        conn.close()
        lock.release()


@contextlib.asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[InProcess]:
    """The MCP server (through a real SDK client) and its bridge, both in this process."""
    async with bridge_in_process(settings) as (bridge, control):
        app = App(settings, supervisor=LocalSupervisor(control))
        async with Client(build_server(settings, app=app), cache=None) as client:
            yield InProcess(client, bridge, control)
