"""A read-only store connection of its own, for tools that read tables StoreReader does not
cover (scheduled sends, transcripts, the digest). Opened once the store exists."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio

from mcp_server.app import App
from store.db import open_reader
from store.errors import StoreError

R = TypeVar("R")


class SideConnection:
    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        await self.app.reader()  # waits for the bridge to create the store on a fresh data dir
        try:
            return await anyio.to_thread.run_sync(self._run, fn)
        except StoreError:
            # Tables not there yet: the bridge is still migrating. Wait for it once, then retry.
            await self.app.bridge()
            return await anyio.to_thread.run_sync(self._run, fn)

    def _run(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        with self._lock:
            if self._conn is None:
                self._conn = open_reader(self.app.paths.messages_db)
            try:
                return fn(self._conn)
            except sqlite3.OperationalError as exc:
                if "no such" not in str(exc):
                    raise
                raise StoreError(
                    f"The store is older than this server ({exc}): the running bridge has not "
                    "migrated it. Run `whatsapp-mcp stop`; the next tool call starts the "
                    "current bridge."
                ) from exc
