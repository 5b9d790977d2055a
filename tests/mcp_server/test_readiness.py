"""First-call truth without a bridge: a store whose tables do not exist yet reads as "not yet",
never as an error, and the sync block appears only while a sync is running."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from bridge.ingest.events import apply_event
from bridge.paths import DataPaths
from bridge.settings import load_settings
from bridge.transport.protocol import HistoryEvent
from mcp_server.app import App
from mcp_server.readiness import NOT_CREATED, Readiness, sync_view
from store.db import open_writer
from store.models import ChatRecord, HistoryBatch, MessageRecord
from store.sync_state import read_sync_state
from store.writer import StoreWriter

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_a_store_still_being_created_reads_as_not_yet(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "data")
    paths.ensure()
    # The bridge has created the file but not yet its tables.
    sqlite3.connect(paths.messages_db).close()
    settings = load_settings(
        env={"WHATSAPP_MCP_DATA_DIR": str(paths.root), "WHATSAPP_MCP_BRIDGE_START_TIMEOUT": "0.3"}
    )
    assert await Readiness(App(settings)).wait() == NOT_CREATED


async def test_history_chunks_through_ingest_make_a_sync_block_until_the_last(
    tmp_path: Path,
) -> None:
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)

    def chunk(i: int, progress: int, final: bool = False) -> None:
        msg = MessageRecord(
            id=f"m{i}", chat_jid="15551230000@s.whatsapp.net", content=f"hello {i}", timestamp=NOW
        )
        batch = HistoryBatch(chats=[ChatRecord(jid=msg.chat_jid)], messages=[msg])
        event = HistoryEvent(batch=batch, progress=progress, sync_type="RECENT", final=final)
        apply_event(writer, event)

    assert sync_view(read_sync_state(conn)) is None  # never synced: nothing to say
    chunk(1, 10)
    chunk(2, 40)
    view = sync_view(read_sync_state(conn))
    assert view is not None and view.progress == 40 and view.state == "running"
    assert view.compact()["state"] == "running" and view.since.endswith("Z")
    # A sync that went quiet long ago is not "running" for ever.
    later = datetime.now(UTC) + timedelta(hours=1)
    assert sync_view(read_sync_state(conn), now=later) is None
    chunk(3, 100, final=True)
    assert sync_view(read_sync_state(conn)) is None
    conn.close()


def test_status_never_says_messages_arrive_live_over_an_empty_or_syncing_store() -> None:
    from mcp_server.presentation.views import CountsView, SyncView
    from mcp_server.tools.status import connected_advice

    syncing = connected_advice(
        CountsView(chats=3, messages=40), SyncView(state="running", progress=12, since="x")
    )
    assert syncing is not None and "still running (12%)" in syncing
    empty = connected_advice(CountsView(), None)
    assert empty is not None and "no messages are stored yet" in empty
    assert connected_advice(CountsView(chats=1, messages=1), None) is None  # the bridge's words


async def test_reads_do_not_wait_for_a_seed_no_bridge_will_bring(tmp_path: Path) -> None:
    """CI saw this: the crash breaker tripped before the simulated world was seeded, and every
    tool then waited the whole start timeout for a seed that no bridge was left to write."""
    from bridge.control.lifecycle import mark_user_stopped

    paths = DataPaths(tmp_path / "data")
    paths.ensure()
    open_writer(paths.messages_db).close()  # tables, but no SIMULATED_SEED chunk
    mark_user_stopped(paths)  # so the supervisor is down and starts nothing
    settings = load_settings(
        env={
            "WHATSAPP_MCP_DATA_DIR": str(paths.root),
            "WHATSAPP_MCP_SIMULATE": "1",
            "WHATSAPP_MCP_BRIDGE_START_TIMEOUT": "30",
        }
    )
    app = App(settings)
    async with app.running():
        with anyio.fail_after(10):  # a third of the start timeout: it did not sit it out
            assert await app.store_ready() == ""
        assert app.supervisor.down is not None and "whatsapp-mcp stop" in app.supervisor.down
