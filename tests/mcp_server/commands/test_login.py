"""`whatsapp-mcp login` while WhatsApp's servers cannot be reached: one honest line that says
what to do, and exit 1 (nothing retries by itself afterwards)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.transport.neonize.generation import unreachable_detail as _unreachable_detail
from bridge.transport.protocol import ConnectionEvent, ConnectionState
from mcp_server.commands import login
from tests.harness import autoreply_settings, inprocess_bridge, sim, wait_until

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("phone", [None, "4915123456789"], ids=["qr", "phone"])
async def test_offline_login_is_one_line_with_the_next_step(
    data_dir: Path, phone: str | None
) -> None:
    settings = autoreply_settings(data_dir)
    async with inprocess_bridge(settings) as bridge:
        # What the neonize transport reports when the WebSocket cannot be opened.
        await sim(bridge).inject_event(
            ConnectionEvent(
                state=ConnectionState.disconnected,
                detail=_unreachable_detail("dial tcp: connect: network is unreachable", 5.0),
            )
        )
        await wait_until(lambda: bridge.state == ConnectionState.disconnected)
        lines: list[str] = []
        code = await login.login(settings, phone, lines.append)
    assert code == 1
    assert len(lines) == 1, lines
    [line] = lines
    assert line.startswith("Cannot link now: WhatsApp's servers are not reachable")
    assert "Check the internet connection, then run `whatsapp-mcp login" in line
    assert "try again" not in line and "retry" not in line
