"""Separate processes: the MCP server spawns `python -m bridge`; a message is scheduled, the
bridge process is stopped before its time, the server starts a new one, and that one sends it,
once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bridge.control.client import ControlClient
from bridge.control.models import StopResponse
from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.server import build_server
from tests.harness import MARIA, autoreply_settings, wait_until
from tests.helpers import call, replacement_bridge, stop_bridge

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(data_dir: Path) -> Iterator[Settings]:
    s = autoreply_settings(data_dir)
    yield s
    stop_bridge(DataPaths(data_dir))


async def _sent(client: Client, schedule_id: int) -> dict[str, Any] | None:
    listing = await call(client, "list_scheduled")
    item = next(i for i in listing["items"] if i["id"] == schedule_id)
    return item if item["state"] == "sent" else None


async def test_a_schedule_survives_a_bridge_process_restart(settings: Settings) -> None:
    paths = DataPaths(settings.data_dir)
    async with Client(build_server(settings), cache=None) as client:
        status = await wait_until(lambda: replacement_bridge(client, -1), timeout=30)
        at = datetime.now(UTC) + timedelta(seconds=6)
        item = await call(
            client, "schedule_message", to=MARIA, text="Dinner at 8 🍝", at=at.isoformat()
        )
        await ControlClient(paths).call("POST", "/api/stop", StopResponse)
        await wait_until(lambda: replacement_bridge(client, status["bridge_pid"]), timeout=30)

        done = await wait_until(lambda: _sent(client, item["id"]), timeout=40)
        page = await call(client, "list_messages", chat=MARIA, limit=20)
        mine = [m for m in page["items"] if m["text"] == "Dinner at 8 🍝"]
        assert [m["id"] for m in mine] == [done["message_id"]]
