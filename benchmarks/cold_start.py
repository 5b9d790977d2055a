"""Cold start: spawn `whatsapp-mcp serve` until the `initialize` answer, from the real MCP SDK
client over stdio, against a bare SDK `MCPServer` with one tool (`benchmarks/bare_server.py`).

    python -m benchmarks.cold_start [--runs 10]

Runs alternate (ours, bare, ours, bare, …) so both see the same machine load; the figure is the
median of each. A simulated bridge is started first and left running, as it is when a host
restarts its server, so the server under test attaches to it instead of spawning one.
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


async def time_initialize(params: StdioServerParameters) -> tuple[float, float]:
    """Milliseconds from spawning the server to holding its `initialize` answer, and to holding
    its `tools/list` answer too (this server builds its tools on that first tools request)."""
    started = time.perf_counter()
    async with Client(params, read_timeout_seconds=60, cache=None) as client:
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
            times: dict[str, list[tuple[float, float]]] = {"ours": [], "bare": []}
            anyio.run(time_initialize, ours)  # warm the OS file cache once, not measured
            anyio.run(time_initialize, bare)
            for _ in range(args.runs):
                times["ours"].append(anyio.run(time_initialize, ours))
                times["bare"].append(anyio.run(time_initialize, bare))
        finally:
            stop_bridge(data_dir)
            bridge.wait(15)

    def med(name: str, i: int) -> float:
        return statistics.median(t[i] for t in times[name])

    result = {
        "runs": args.runs,
        "serve_median_ms": round(med("ours", 0), 1),
        "bare_median_ms": round(med("bare", 0), 1),
        "ratio": round(med("ours", 0) / med("bare", 0), 3),
        "serve_to_tools_list_median_ms": round(med("ours", 1), 1),
        "bare_to_tools_list_median_ms": round(med("bare", 1), 1),
        "tools_list_ratio": round(med("ours", 1) / med("bare", 1), 3),
        "serve_ms": [round(t[0], 1) for t in times["ours"]],
        "bare_ms": [round(t[0], 1) for t in times["bare"]],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
