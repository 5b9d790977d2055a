"""Pairing: offline behaviour of the real transport, and the full flow on the simulated one."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bridge.control.client import ControlClient
from bridge.control.models import LogoutResponse
from bridge.paths import DataPaths
from bridge.settings import Settings, load_settings
from mcp_server.server import build_server
from tests.helpers import eventually, eventually_async, sim_env, stop_bridge, text_of
from tests.mcp_server.test_stdio import RawServer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def real_settings(data_dir: Path) -> Iterator[Settings]:
    """Settings for a real (NeonizeTransport) bridge on this offline machine."""
    yield load_settings(
        env={"WHATSAPP_MCP_DATA_DIR": str(data_dir), "WHATSAPP_MCP_BRIDGE_IDLE_EXIT": "5"}
    )
    stop_bridge(DataPaths(data_dir))


@pytest.mark.anyio
async def test_offline_real_bridge_says_not_paired_and_qr_fails_clearly(
    real_settings: Settings,
) -> None:
    async with Client(build_server(real_settings), cache=None) as client:

        async def offline() -> dict[str, Any] | None:
            st = (await client.call_tool("get_status", {})).structured_content or {}
            return st if st.get("bridge_running") and st.get("state") == "disconnected" else None

        status = await eventually_async(offline, timeout=40, interval=0.2, what="offline bridge")
        assert status["paired"] is False and status["simulate"] is False
        assert "Not paired" in status["advice"]
        start = time.monotonic()
        result = await client.call_tool("get_login_qr", {})
        assert time.monotonic() - start < 30
        assert result.is_error
        assert "cannot be reached" in text_of(result)
        code = await client.call_tool("request_pairing_code", {"phone": "+15551234567"})
        assert code.is_error and "cannot be reached" in text_of(code)


def test_real_bridge_keeps_server_stdout_pure(data_dir: Path) -> None:
    env = {"WHATSAPP_MCP_DATA_DIR": str(data_dir), "WHATSAPP_MCP_BRIDGE_IDLE_EXIT": "5"}
    server = RawServer(data_dir, simulate=False, env=env)
    try:
        server.initialize()
        eventually(
            lambda: server.call("get_status", {})["result"]["structuredContent"]["bridge_running"],
            timeout=40,
            interval=0.2,
            what="a running bridge",
        )
        server.call("get_login_qr", {})
        server.call("send_message", {"to": "+15551234567", "text": "hello"})
    finally:
        server.close()
        stop_bridge(DataPaths(data_dir))
    assert server.lines
    for line in server.lines:
        assert line.startswith(b"{") and b'"jsonrpc":"2.0"' in line.replace(b" ", b""), line


def test_go_prints_land_on_stderr_once_stdout_is_protected(tmp_path: Path) -> None:
    """neonize's Go code writes to fd 1; the bridge's protect_stdout() must divert it."""
    script = (
        "from bridge.main import protect_stdout\n"
        "protect_stdout()\n"
        "from bridge.transport.neonize.env import prepare_neonize_environment\n"
        "prepare_neonize_environment()\n"
        "from neonize.client import NewClient\n"
        f"c = NewClient({str(tmp_path / 's.db')!r})\n"
        "try:\n"
        "    c.send_message('15551234567@s.whatsapp.net', 'x')\n"
        "except Exception:\n"
        "    pass\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=60, check=False
    )
    assert proc.stdout == b""
    assert b"SendMessage" in proc.stderr or b"client is nil" in proc.stderr


@pytest.fixture
def sim_settings(data_dir: Path) -> Iterator[Settings]:
    yield load_settings(env=sim_env(data_dir))
    stop_bridge(DataPaths(data_dir))


@pytest.mark.anyio
async def test_simulated_pairing_by_qr_and_by_phone_code(sim_settings: Settings) -> None:
    async with Client(build_server(sim_settings), cache=None) as client:
        already = await client.call_tool("get_login_qr", {})
        assert already.is_error and "already linked" in text_of(already)
        bridge = ControlClient(DataPaths(sim_settings.data_dir))
        await bridge.call("POST", "/api/logout", LogoutResponse)
        qr = await client.call_tool("get_login_qr", {})
        assert not qr.is_error, text_of(qr)
        kinds = [c.type for c in qr.content]
        assert kinds == ["text", "image"]
        image = qr.content[1]
        assert base64.b64decode(image.data).startswith(PNG_MAGIC)  # type: ignore[union-attr]
        assert "Linked devices" in text_of(qr)
        png = sim_settings.data_dir / "login-qr.png"
        assert png.read_bytes().startswith(PNG_MAGIC)
        assert png.stat().st_mode & 0o077 == 0
        code = await client.call_tool("request_pairing_code", {"phone": "+1 555 000 0000"})
        assert not code.is_error, text_of(code)
        assert len((code.structured_content or {})["code"].replace("-", "")) == 8

        async def paired() -> bool:
            st = (await client.call_tool("get_status", {})).structured_content or {}
            return st.get("state") == "connected" and bool(st.get("paired"))

        await eventually_async(paired, timeout=20, what="a paired, connected bridge")
