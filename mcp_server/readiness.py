"""First-call truth: no read answers from a store that is still being created or seeded as if
it were complete.

- While the bridge creates messages.db, its tables do not exist yet: a read waits for them
  (bounded) and, if they are still missing, answers "not yet" instead of failing.
- In simulate mode the first read waits (bounded) for the whole seeded world, which the
  simulated network closes with an empty `SIMULATED_SEED` history chunk.
- While the bridge is known to be down (its crash breaker tripped, it was stopped), nothing
  will seed the store, so reads answer at once from what is there.
- While a history sync runs, list and search results carry `sync` so the model can tell
  "nothing" from "not yet"; the state comes from `store.sync_state`, which ingest fills.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import anyio
from mcp.server.mcpserver.exceptions import ToolError

from mcp_server.presentation.views import SyncView, when
from store.errors import StoreError
from store.reader import StoreReader
from store.sync_state import SIMULATED_SEED, SyncState

if TYPE_CHECKING:  # App builds one Readiness (App.store_ready): no import cycle at run time
    from mcp_server.app import App

log = logging.getLogger(__name__)

NOT_CREATED = (
    "The message store is still being created by the bridge, so nothing can be read yet; "
    "call again in a few seconds, or get_status to see what the bridge is doing."
)


def sync_view(state: SyncState | None, now: datetime | None = None) -> SyncView | None:
    """The `sync` block of a result: present only while a history sync is running."""
    if state is None or not state.running(now or datetime.now(UTC)):
        return None
    return SyncView(state="running", progress=state.progress, since=when(state.since))


def _probe(reader: StoreReader) -> tuple[bool, SyncState | None]:
    """(the tables exist, the sync state)."""
    try:
        reader.list_chats(limit=1)  # cheap at any size, unlike a count
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return False, None
        raise
    return True, reader.sync_state()


class Readiness:
    """Per server process: remembers once the store is ready so later calls pay nothing."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._ready = False

    async def wait(self) -> str:
        """ "" when reads can be trusted; otherwise why not (for an empty result's note)."""
        if self._ready:
            return ""
        settings = self.app.settings
        deadline = time.monotonic() + settings.bridge_start_timeout
        while True:
            try:
                tables, state = await self.app.read(_probe)
            except StoreError as exc:
                if self.app.paths.messages_db.exists():
                    raise ToolError(str(exc)) from exc  # damaged or too new: say so as it is
                # No file yet after the bridge's start timeout: an empty answer that says why.
                return NOT_CREATED
            seeded = not settings.simulate or (state is not None and SIMULATED_SEED in state.types)
            if tables and seeded:
                self._ready = True
                return ""
            if not tables and time.monotonic() >= deadline:
                return NOT_CREATED
            if self.app.supervisor.down is not None:
                # No bridge runs and none is starting, so nothing creates or seeds the store
                # while we wait: answer from what is there, and look again on the next call.
                return "" if tables else NOT_CREATED
            if time.monotonic() >= deadline:
                log.warning(
                    "simulated world not seeded after %.0f s", settings.bridge_start_timeout
                )
                self._ready = True  # answer from what is there; `sync` says it is partial
                return ""
            await anyio.sleep(0.05)
