"""A server started with stricter settings than the running bridge is never ignored (issue 13):
alone, it restarts the bridge with its settings; next to another server, the bridge enforces the
strictest of both and the differing server refuses writes. Real bridge processes, real MCP
clients (in process and over stdio), simulated WhatsApp."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError
from bridge.control.models import SendResponse, SendTextRequest
from bridge.paths import DataPaths
from bridge.settings import load_settings
from mcp_server.server import build_server
from store.db import open_reader
from tests.helpers import call, error_of, eventually_async, seeded_contact, sim_env, stop_bridge
from tests.safety.test_attack_replay import seeded

pytestmark = pytest.mark.anyio


def sent_texts(paths: DataPaths, text: str) -> int:
    conn = open_reader(paths.messages_db)
    try:
        row = conn.execute(
            "SELECT count(*) FROM messages WHERE is_from_me = 1 AND content = ?", (text,)
        ).fetchone()
    finally:
        conn.close()
    return int(row[0])


async def bridge_pid(paths: DataPaths) -> int:
    return (await ControlClient(paths).health()).pid


async def running_status(client: Client) -> dict[str, Any]:
    """get_status once the (re)started bridge answers it. `seeded` reads the store the old
    bridge filled, so it can return while the restarted one is still starting; get_status
    waits 3 s for it and reports bridge_unavailable (no pid, no enforced settings) after."""

    async def check() -> dict[str, Any] | None:
        status = await call(client, "get_status")
        return status if status["bridge_running"] else None

    found = await eventually_async(check, timeout=60, what="get_status with the bridge running")
    assert found is not None  # eventually_async returns only a truthy value
    return found


async def test_a_read_only_server_restarts_a_bridge_nobody_else_uses(
    running_bridge: DataPaths,
) -> None:
    paths = running_bridge
    old = await bridge_pid(paths)
    settings = load_settings(env=sim_env(paths.root, WHATSAPP_MCP_READ_ONLY="1"))
    async with Client(build_server(settings), cache=None) as client:
        await seeded(client)
        status = await running_status(client)
        assert status["bridge_pid"] != old, status
        assert "restarted" in status["security"] and "WHATSAPP_MCP_READ_ONLY" in status["security"]
        assert "enforced" in status, status
        assert status["enforced"]["read_only"] is True
        contact = seeded_contact(paths)
        with pytest.raises(BridgeError) as info:
            await ControlClient(paths).call(
                "POST", "/api/send", SendResponse, SendTextRequest(to=contact, text="leak 1")
            )
        assert info.value.code == "read_only"
    assert sent_texts(paths, "leak 1") == 0


async def test_a_new_blocked_number_restarts_the_bridge_and_holds(
    running_bridge: DataPaths,
) -> None:
    paths = running_bridge
    contact = seeded_contact(paths)
    number = "+" + contact.split("@")[0]
    settings = load_settings(env=sim_env(paths.root, WHATSAPP_MCP_BLOCKED_RECIPIENTS=number))
    async with Client(build_server(settings), cache=None) as client:
        await seeded(client)
        status = await running_status(client)
        assert "restarted" in status["security"]
        assert "WHATSAPP_MCP_BLOCKED_RECIPIENTS" in status["security"]
        assert "enforced" in status, status
        assert status["enforced"]["blocked_recipients"] == [contact]
        text = await error_of(client, "send_message", to=contact, text="leak 2")
        assert "recipient_blocked" in text
    assert sent_texts(paths, "leak 2") == 0


@pytest.fixture
def paths(data_dir: Path) -> Iterator[DataPaths]:
    p = DataPaths(data_dir)
    yield p
    stop_bridge(p)


def stdio_server(data_dir: Path, **extra: str) -> StdioServerParameters:
    env = {
        k: v
        for k, v in sim_env(data_dir, **extra).items()
        if k.startswith(("WHATSAPP_MCP_", "PYTHON", "PATH"))
    }
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server", "serve"], env=env
    )


async def structured(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    return result.structured_content or {}


async def test_next_to_another_server_the_strictest_settings_hold_and_writes_are_refused(
    paths: DataPaths,
) -> None:
    # Server A (default settings, in this process) starts the bridge and stays attached.
    settings = load_settings(env=sim_env(paths.root))
    async with Client(build_server(settings), cache=None) as a:
        await seeded(a)
        contact = seeded_contact(paths)
        number = "+" + contact.split("@")[0]
        pid = await bridge_pid(paths)
        # Server B, another process, blocks that contact: the bridge is shared, not restarted.
        params = stdio_server(paths.root, WHATSAPP_MCP_BLOCKED_RECIPIENTS=number)
        async with Client(params, read_timeout_seconds=60, cache=None) as b:

            async def security_noted() -> dict[str, Any] | None:
                status = await structured(b, "get_status")
                return status if status.get("security") else None

            status = await eventually_async(
                security_noted, timeout=30, interval=0.1, what="B's security note"
            )
            assert status["bridge_pid"] == pid
            assert "settings_differ" in status["security"]
            assert "WHATSAPP_MCP_BLOCKED_RECIPIENTS" in status["security"]
            refused = await b.call_tool("send_message", {"to": contact, "text": "leak 3"})
            assert refused.is_error and "settings_differ" in str(refused.content)
            # A send scheduled for later is a write too.
            later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
            args = {"to": contact, "text": "leak 3", "at": later}
            refused = await b.call_tool("schedule_message", args)
            assert refused.is_error and "settings_differ" in str(refused.content)
            # A's send to the contact B blocks is refused by the bridge: the strictest wins.
            text = await error_of(a, "send_message", to=contact, text="leak 3")
            assert "recipient_blocked" in text
            a_status = await call(a, "get_status")
            assert a_status["enforced"]["blocked_recipients"] == [contact]

        # B has exited: its stricter list no longer applies, and A sends as before.
        async def sent() -> CallToolResult | None:
            result = await a.call_tool("send_message", {"to": contact, "text": "hello"})
            assert not result.is_error or "recipient_blocked" in str(result.content)
            return None if result.is_error else result

        await eventually_async(sent, timeout=30, interval=0.2, what="A sending once B is gone")
    assert sent_texts(paths, "leak 3") == 0
