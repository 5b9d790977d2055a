"""The MCP server process starts fast because it never loads the WhatsApp or Gemini stacks, nor
Pillow and segno before a tool needs them (they are imported on first use)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
from bridge.settings import load_settings
import mcp_server.cli
from mcp_server.server import build_server
build_server(load_settings(simulate=True, data_dir=sys.argv[1]))
heavy = sorted(
    m
    for m in sys.modules
    if m.split(".")[0] in ("neonize", "PIL", "segno") or m.startswith("google.genai")
)
print(json.dumps(heavy))
"""


def test_building_the_mcp_server_imports_neither_neonize_nor_google_genai(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
