"""Cold start: spawn `whatsapp-mcp serve` until the handshake's answer, from the real MCP SDK
client over stdio, against a bare SDK `MCPServer` with one tool (`benchmarks/bare_server.py`).

    python -m benchmarks.cold_start [--runs 10]

Two handshakes, both timed: `initialize` (the client's `mode="legacy"`, what Claude Desktop and
the other hosts send) and the SDK client's default `mode="auto"`, which first probes the
2026-07-28 era's `server/discover`. Runs alternate (ours, bare, ours, bare, …) so both see the
same machine load; each figure is the median of its runs. A simulated bridge is started first
and left running, as it is when a host restarts its server, so the server under test attaches
to it instead of spawning one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from benchmarks.bench_process import spawn_bridge, stop_bridge, wait_bridge
from benchmarks.common import ROOT


def _env(data_dir: Path) -> dict[str, str]:
    return {
        "WHATSAPP_MCP_DATA_DIR": str(data_dir),
        "WHATSAPP_MCP_SIMULATE": "1",
        "WHATSAPP_MCP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


MODES = ("legacy", "auto")


async def time_initialize(params: StdioServerParameters, mode: str) -> tuple[float, float]:
    """Milliseconds from spawning the server to holding its handshake answer, and to holding
    its `tools/list` answer too (this server builds its tools on that first tools request)."""
    started = time.perf_counter()
    async with Client(params, read_timeout_seconds=60, cache=None, mode=mode) as client:
        initialized = (time.perf_counter() - started) * 1000
        await client.list_tools()
        return initialized, (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        env = _env(data_dir)
        bridge = spawn_bridge({**os.environ, **env}, "--idle-exit", "120")
        try:
            wait_bridge(data_dir)
            ours = StdioServerParameters(
                command=sys.executable, args=["-m", "mcp_server", "serve"], env=env, cwd=ROOT
            )
            bare = StdioServerParameters(
                command=sys.executable, args=["-m", "benchmarks.bare_server"], env=env, cwd=ROOT
            )
            times: dict[str, list[tuple[float, float]]] = {
                f"{who}/{mode}": [] for who in ("ours", "bare") for mode in MODES
            }
            anyio.run(time_initialize, ours, "legacy")  # warm the OS file cache, not measured
            anyio.run(time_initialize, bare, "legacy")
            for _ in range(args.runs):
                for mode in MODES:
                    times[f"ours/{mode}"].append(anyio.run(time_initialize, ours, mode))
                    times[f"bare/{mode}"].append(anyio.run(time_initialize, bare, mode))
        finally:
            stop_bridge(data_dir)
            bridge.wait(15)

    def med(name: str, i: int) -> float:
        return statistics.median(t[i] for t in times[name])

    result: dict[str, object] = {"runs": args.runs}
    for mode in MODES:
        ours_ms, bare_ms = med(f"ours/{mode}", 0), med(f"bare/{mode}", 0)
        ours_list, bare_list = med(f"ours/{mode}", 1), med(f"bare/{mode}", 1)
        result[mode] = {
            "serve_median_ms": round(ours_ms, 1),
            "bare_median_ms": round(bare_ms, 1),
            "ratio": round(ours_ms / bare_ms, 3),
            "serve_to_tools_list_median_ms": round(ours_list, 1),
            "bare_to_tools_list_median_ms": round(bare_list, 1),
            "tools_list_ratio": round(ours_list / bare_list, 3),
            "serve_ms": [round(t[0], 1) for t in times[f"ours/{mode}"]],
            "bare_ms": [round(t[0], 1) for t in times[f"bare/{mode}"]],
        }
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
