"""The README is the user's manual: its tables must match the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bridge.settings import ENV_VARS, PASSTHROUGH_ENV_VARS, load_settings
from mcp_server.server import build_server

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def table_names(marker: str) -> set[str]:
    block = README.split(f"<!-- {marker}:start -->")[1].split(f"<!-- {marker}:end -->")[0]
    return set(re.findall(r"^\| `([^`]+)` \|", block, flags=re.MULTILINE))


@pytest.mark.anyio
async def test_every_registered_tool_is_in_the_readme_table(tmp_path: Path) -> None:
    settings = load_settings(
        env={"WHATSAPP_MCP_DATA_DIR": str(tmp_path), "WHATSAPP_MCP_SIMULATE": "1"}
    )
    registered = {t.name for t in await build_server(settings).list_tools()}
    assert table_names("tools") == registered


def test_every_setting_is_in_the_readme_table() -> None:
    # Plus the variables google-genai reads in the bridge (passed through, not parsed by us).
    assert table_names("settings") == set(ENV_VARS) | set(PASSTHROUGH_ENV_VARS)


def test_example_config_uses_absolute_paths() -> None:
    config = json.loads((ROOT / "claude_desktop_config.example.json").read_text(encoding="utf-8"))
    servers = config["mcpServers"]
    assert any("--simulate" in s["args"] for s in servers.values())
    assert any("--simulate" not in s["args"] for s in servers.values())
    for server in servers.values():
        assert Path(server["command"]).is_absolute()
        for value in server.get("env", {}).values():
            assert Path(value).is_absolute()


def test_the_source_map_names_every_package_and_only_real_ones() -> None:
    """README's "Where the code is": each package folder once, none that does not exist."""
    section = README.split("### Where the code is", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_/]+)/` \|", section, flags=re.M))
    packages = {
        str(init.parent.relative_to(ROOT))
        for top in ("store", "bridge", "mcp_server")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert listed == packages, (sorted(packages - listed), sorted(listed - packages))
