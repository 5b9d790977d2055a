"""`whatsapp-mcp stop` on a bridge an MCP server started: it stays stopped (the old behaviour
was a restart 0.6 s later by the attached server) until a tool needs it again."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bridge.control.lifecycle import stopped_file
from bridge.paths import DataPaths
from tests.helpers import sim_env, stop_bridge
from tests.reliability.procs import StdioServer, bridge_processes, wait_for

ROOT = Path(__file__).resolve().parents[3]
# The supervisor's first restart comes after 0.2–0.4 s (mcp_server/supervision/supervisor.py):
# watching for ten times that shows it does not come.
NO_RESTART_WINDOW = 4.0


def test_stop_is_not_undone_by_an_attached_server_until_a_tool_asks(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    env = sim_env(data_dir, WHATSAPP_MCP_BRIDGE_IDLE_EXIT="600")
    server = StdioServer(env)
    try:
        server.initialize()
        first = server.wait_bridge()
        done = subprocess.run(
            [sys.executable, "-m", "mcp_server", "stop"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert done.returncode == 0 and "bridge stopped" in done.stdout, done
        wait_for(lambda: first not in bridge_processes(data_dir), 20, "the bridge to exit")
        deadline = time.monotonic() + NO_RESTART_WINDOW
        while time.monotonic() < deadline:
            assert bridge_processes(data_dir) == [], "the attached server restarted the bridge"
            time.sleep(0.1)
        assert stopped_file(paths).exists()

        # A tool that needs the bridge asks: it starts again and the mark is gone.
        chats = server.tool("list_chats", {"limit": 5})["items"]
        peer = next(c for c in chats if not c.get("group"))
        sent = server.tool("send_message", {"to": peer["chat"], "text": "back again"})
        assert sent["id"]
        second = server.wait_bridge()
        assert second != first
        assert not stopped_file(paths).exists()
    finally:
        server.close()
        stop_bridge(paths)
