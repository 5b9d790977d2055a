"""First answers are true: on a fresh data dir the first reads return the seeded world, and
while a history sync runs every list and search says so."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from bridge.paths import DataPaths
from bridge.settings import Settings, load_settings
from mcp_server.server import build_server
from tests.helpers import call, eventually_async, sim_env, stop_bridge, text_of

pytestmark = pytest.mark.anyio

FRESH_DIRS = 10


def stdio_server(data_dir: Path) -> StdioServerParameters:
    env = {k: v for k, v in sim_env(data_dir).items() if k.startswith(("WHATSAPP_MCP_", "PYTHON"))}
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server", "serve", "--simulate"], env=env
    )


def stored_counts(paths: DataPaths) -> tuple[int, int]:
    conn = sqlite3.connect(f"{paths.messages_db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        chats = conn.execute("SELECT count(*) FROM chats").fetchone()[0]
        maria = conn.execute(
            "SELECT count(*) FROM messages WHERE chat_jid = '15550100143@s.whatsapp.net'"
        ).fetchone()[0]
        return int(chats), int(maria)
    finally:
        conn.close()


async def test_first_calls_on_fresh_data_dirs_return_the_seeded_world(tmp_path: Path) -> None:
    for attempt in range(FRESH_DIRS):
        paths = DataPaths(tmp_path / f"fresh{attempt}")
        try:
            async with Client(stdio_server(paths.root), read_timeout_seconds=60) as client:
                # No sleep, no retry: the very first calls after initialize.
                chats = await client.call_tool("list_chats", {"limit": 50})
                maria = await client.call_tool(
                    "list_messages", {"chat": "Maria García", "limit": 200}
                )
                hits = await client.call_tool("search_messages", {"query": "dinner"})
            for result in (chats, maria, hits):
                assert not result.is_error, (attempt, text_of(result))
            n_chats, n_maria = stored_counts(paths)
            got = chats.structured_content or {}
            assert len(got["items"]) == n_chats >= 10, attempt
            assert len((maria.structured_content or {})["items"]) == n_maria >= 20, attempt
            assert (hits.structured_content or {})["items"], attempt
            # The seeded world is complete, so nothing says "not yet".
            assert "sync" not in got and "note" not in got, got
        finally:
            await anyio.to_thread.run_sync(stop_bridge, paths)


async def test_first_writes_on_fresh_data_dirs_judge_by_the_whole_seeded_store(
    tmp_path: Path,
) -> None:
    # A write that asks "is this a saved contact?" or resolves a name must not be answered
    # from a store that is still filling: no "not a saved contact", no "no such contact". The
    # simulated phone takes 1.5 s to connect and push its contacts, as a real one takes
    # seconds, so every first call here lands on an empty store.
    for attempt in range(3):
        paths = DataPaths(tmp_path / f"fresh{attempt}")
        env = sim_env(paths.root, WHATSAPP_MCP_SIMULATE_CONNECT_DELAY="1.5")
        settings = load_settings(env=env)
        try:
            async with Client(build_server(settings), cache=None) as client:
                # The very first call: the landlord is a saved contact of the seeded world.
                rule = await client.call_tool(
                    "set_auto_reply",
                    {
                        "chat": "+447700900418",
                        "enabled": True,
                        "mode": "static",
                        "static_text": "Back soon",
                    },
                )
                sent = await client.call_tool(
                    "send_message", {"to": "Maria García", "text": "See you at 8"}
                )
            for result in (rule, sent):
                assert not result.is_error, (attempt, text_of(result))
        finally:
            await anyio.to_thread.run_sync(stop_bridge, paths)


@pytest.fixture
def syncing(data_dir: Path) -> Iterator[Settings]:
    # Synthetic history after the seed: a sync that runs for a few seconds through ingest.
    s = load_settings(env=sim_env(data_dir, WHATSAPP_MCP_SIMULATE_HISTORY="60000"))
    yield s
    stop_bridge(DataPaths(data_dir))


@pytest.fixture
async def sync_client(syncing: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(syncing), cache=None) as c:
        yield c


async def test_list_and_search_carry_the_sync_state_while_history_arrives(
    sync_client: Client,
) -> None:
    client = sync_client
    chats = await call(client, "list_chats")
    sync = chats["sync"]
    assert sync["state"] == "running" and 0 <= sync["progress"] < 100 and sync["since"]
    hits = await call(client, "search_messages", query="the")
    assert hits["sync"]["state"] == "running"
    # An empty answer during a sync says "not yet", not "nothing".
    none = await call(client, "search_messages", query="qqqzzzxxyy")
    assert not none["items"] and "still bringing messages in" in none["note"]
    result = await client.call_tool("list_chats", {})
    assert "History sync running" in text_of(result)
    status = await call(client, "get_status")
    if "sync" in status:  # it may have just finished
        assert "still running" in status["advice"] and "sync" in status

    progress = [sync["progress"]]

    async def synced() -> bool:
        page = await call(client, "list_chats")
        if "sync" in page:
            progress.append(page["sync"]["progress"])
        return "sync" not in page

    await eventually_async(synced, timeout=240, interval=0.2, what="the end of the history sync")
    assert progress == sorted(progress)
    after = await call(client, "search_messages", query="the")
    assert "sync" not in after and after["items"]
    assert "History sync" not in text_of(await client.call_tool("list_chats", {}))
    status = await call(client, "get_status")
    assert "sync" not in status and "still running" not in status["advice"]
