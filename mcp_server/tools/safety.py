"""The send log tool: shows the user every send the bridge's gate judged, and how it ended."""

from __future__ import annotations

import sqlite3
import threading
from typing import Annotated

import anyio
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from mcp_server.app import App
from mcp_server.errors import tool_errors
from mcp_server.tools.read import READ
from store.audit import SendLogEntry, read_send_log
from store.db import open_reader


class SendLog(BaseModel):
    items: list[SendLogEntry] = Field(description="Newest first.")


class _LogReader:
    """A read-only connection of its own, opened once the store exists."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    async def read(self, limit: int) -> list[SendLogEntry]:
        await self.app.reader()  # waits for the bridge to create the store on a fresh data dir
        return await anyio.to_thread.run_sync(self._read, limit)

    def _read(self, limit: int) -> list[SendLogEntry]:
        with self._lock:
            if self._conn is None:
                self._conn = open_reader(self.app.paths.messages_db)
            return read_send_log(self._conn, limit)


def register(server: MCPServer, app: App) -> None:
    log_reader = _LogReader(app)

    @server.tool(annotations=READ)
    async def get_send_log(
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> SendLog:
        """Audit log of sends, reactions and read receipts, newest first: time, origin,
        recipient, text hash and length (never the text), outcome (sent, failed, or
        refused with the reason and the setting that would allow it)."""
        with tool_errors():
            return SendLog(items=await log_reader.read(limit))
