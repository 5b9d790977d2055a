"""How the auto-reply tools present themselves to a host."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.settings import load_settings
from mcp_server.server import build_server

pytestmark = pytest.mark.anyio


async def tools(tmp_path: Path, **env: str) -> dict[str, object]:
    settings = load_settings(env={"WHATSAPP_MCP_DATA_DIR": str(tmp_path), **env})
    return {t.name: t for t in await build_server(settings).list_tools()}


async def test_set_auto_reply_is_a_write_tool_and_get_auto_reply_reads_only(
    tmp_path: Path,
) -> None:
    listed = await tools(tmp_path)
    setter = listed["set_auto_reply"].annotations  # type: ignore[attr-defined]
    assert setter.read_only_hint is False and setter.destructive_hint is True
    assert setter.open_world_hint is True and setter.idempotent_hint is True
    assert listed["get_auto_reply"].annotations.read_only_hint is True  # type: ignore[attr-defined]


async def test_read_only_mode_keeps_only_get_auto_reply(tmp_path: Path) -> None:
    listed = await tools(tmp_path, WHATSAPP_MCP_READ_ONLY="1")
    assert "get_auto_reply" in listed and "set_auto_reply" not in listed


async def test_the_auto_reply_toolset_can_be_left_out(tmp_path: Path) -> None:
    listed = await tools(tmp_path, WHATSAPP_MCP_TOOLSETS="read,send")
    assert not {"get_auto_reply", "set_auto_reply"} & set(listed)
    assert "send_message" in listed
