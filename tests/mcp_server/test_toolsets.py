"""WHATSAPP_MCP_TOOLSETS decides which tools exist; read-only mode keeps none of the writes."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from bridge.settings import load_settings
from mcp_server.server import build_server

pytestmark = pytest.mark.anyio

MEDIA = {"send_file", "download_media"}
SEND = {"send_message", "send_reaction", "mark_read"}
READ = {"get_status", "list_chats", "get_chat", "list_messages", "search_messages"}
SCHEDULE = {"schedule_message", "list_scheduled", "cancel_scheduled"}  # issue 18, toolset send


async def tools_for(tmp_path: Path, **env: str) -> set[str]:
    settings = load_settings(env={"WHATSAPP_MCP_DATA_DIR": str(tmp_path), **env})
    return {t.name for t in await build_server(settings).list_tools()}


async def test_all_toolsets_by_default(tmp_path: Path) -> None:
    names = await tools_for(tmp_path)
    assert MEDIA | SEND | READ <= names


async def test_each_toolset_brings_its_own_tools(tmp_path: Path) -> None:
    read_only_set = await tools_for(tmp_path, WHATSAPP_MCP_TOOLSETS="read")
    assert READ <= read_only_set and not (MEDIA | SEND) & read_only_set
    media = await tools_for(tmp_path, WHATSAPP_MCP_TOOLSETS="read,media")
    assert MEDIA <= media and not SEND & media
    send = await tools_for(tmp_path, WHATSAPP_MCP_TOOLSETS="send")
    assert send == SEND | SCHEDULE


async def test_prompts_and_the_chat_resource_come_with_the_read_toolset(tmp_path: Path) -> None:
    for toolsets, expected in (("read", 3), ("send,media", 0)):
        settings = load_settings(
            env={"WHATSAPP_MCP_DATA_DIR": str(tmp_path), "WHATSAPP_MCP_TOOLSETS": toolsets}
        )
        server = build_server(settings)
        assert len(await server.list_prompts()) == expected
        assert len(await server.list_resource_templates()) == min(expected, 1)


async def test_write_tools_are_annotated_as_writes_and_dropped_in_read_only_mode(
    tmp_path: Path,
) -> None:
    settings = load_settings(env={"WHATSAPP_MCP_DATA_DIR": str(tmp_path)})
    tools = {t.name: t for t in await build_server(settings).list_tools()}
    for name in MEDIA | SEND:
        ann = tools[name].annotations
        assert ann is not None and ann.read_only_hint is False, name
        assert ann.open_world_hint is True, name
    assert tools["send_file"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert tools["send_reaction"].annotations.idempotent_hint is True  # type: ignore[union-attr]
    kept = await tools_for(tmp_path, WHATSAPP_MCP_READ_ONLY="1")
    assert READ <= kept and not (MEDIA | SEND) & kept


def test_prompt_since_accepts_iso_times_and_spans() -> None:
    from datetime import datetime

    from mcp_server.prompts import PromptArgumentError, parse_since

    now = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
    assert parse_since("12h", now) == datetime(2024, 5, 10, 0, 0, tzinfo=UTC)
    assert parse_since("2d", now) == datetime(2024, 5, 8, 12, 0, tzinfo=UTC)
    assert parse_since("2024-05-01T08:00", now) == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert parse_since("2024-05-01T08:00Z", now) == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert parse_since(None, now) is None and parse_since(" ", now) is None
    with pytest.raises(PromptArgumentError, match="12h"):
        parse_since("last tuesday", now)
