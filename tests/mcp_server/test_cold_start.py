"""What the server loads before it answers the handshake (cold start, issue 11).

A host waits on `initialize` before it shows the server as connected, so the server answers it
with the SDK and its settings only; the tools, the store, the bridge's wire models and the
supervisor load on the first message after it. Speed itself is measured in
`benchmarks/cold_start.py`; these tests pin down the structure that makes it fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import types
from mcp_types.version import LATEST_MODERN_VERSION

from mcp_server.cli import _command_name, _serving  # pyright: ignore[reportPrivateUsage]
from tests.helpers import sim_env

ROOT = Path(__file__).resolve().parents[2]

# Loaded on the first message after the handshake, never for it.
LATER = (
    "mcp_server.tools",
    "mcp_server.supervision.supervisor",
    "mcp_server.prompts",
    "mcp_server.resources",
    "bridge.control.client",
    "bridge.control.models",
    "store.models",
    "store.reader",
    "store.chat_export",
    "sqlite_utils",
    "httpcore2",
    "PIL",
    "segno",
)

# Runs the real CLI entry point; prints the loaded modules once stdin closes and it exits. The
# fallback that starts supervising an idle server is pushed out of the way: only the handshake
# itself is observed.
_SERVE_AND_REPORT = """
import atexit, json, sys
import mcp_server.app
mcp_server.app.SUPERVISE_ANYWAY_AFTER = 3600
atexit.register(lambda: sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
from mcp_server.cli import main
sys.exit(main(sys.argv[1:]))
"""


CLIENT = {"name": "cold-start-test", "version": "1"}


def _request(method: str) -> dict[str, object]:
    if method == "initialize":
        params: dict[str, object] = {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": CLIENT,
        }
    else:  # the 2026-07-28 era's probe, as the SDK's client stamps it
        meta = {
            types.PROTOCOL_VERSION_META_KEY: LATEST_MODERN_VERSION,
            types.CLIENT_INFO_META_KEY: CLIENT,
            types.CLIENT_CAPABILITIES_META_KEY: {},
        }
        params = {"_meta": meta}
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}


def _handshake(method: str, tmp_path: Path) -> tuple[dict[str, object], set[str]]:
    request = _request(method)
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_AND_REPORT, "serve"],
        input=json.dumps(request) + "\n",
        capture_output=True,
        text=True,
        env=sim_env(tmp_path / "data"),
        cwd=ROOT,
        timeout=120,
    )
    [answer_line] = done.stdout.splitlines()
    [modules_line] = [ln for ln in done.stderr.splitlines() if ln.startswith("MODULES ")]
    return json.loads(answer_line), set(json.loads(modules_line.removeprefix("MODULES ")))


def _loaded_too_early(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in LATER))


@pytest.mark.parametrize("method", ["initialize", "server/discover"])
def test_the_handshake_is_answered_before_tools_store_and_supervisor_load(
    method: str, tmp_path: Path
) -> None:
    answer, modules = _handshake(method, tmp_path)
    assert answer["id"] == 1 and "result" in answer, answer
    assert _loaded_too_early(modules) == []
    # Nothing was started against the data dir either: no bridge was spawned for it.
    assert not (tmp_path / "data" / "bridge.lock").exists()


def test_the_check_sees_a_module_that_loads_too_early() -> None:
    # The assertion above can fail: the same check on a process that imported the tools.
    assert _loaded_too_early({"mcp_server.tools.read", "store.models", "json"}) == [
        "mcp_server.tools.read",
        "store.models",
    ]


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        ([], None),
        (["serve"], "serve"),
        (["--simulate"], None),
        (["--data-dir", "status"], None),  # a data dir named "status", then serve
        (["--data-dir=/x", "status"], "status"),
        (["--simulate-history", "30", "import", "chat.zip"], "import"),
        (["--simulate", "doctor", "--data-dir", "/x"], "doctor"),
    ],
)
def test_the_cli_finds_the_subcommand_argparse_will_find(argv: list[str], name: str | None) -> None:
    assert _command_name(argv) == name


def test_only_serve_without_help_takes_the_light_path() -> None:
    assert _serving([]) and _serving(["serve", "--simulate"])
    assert not _serving(["--help"]) and not _serving(["serve", "-h"])
    assert not _serving(["status"])
