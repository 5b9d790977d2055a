"""Soak: four reader processes call MCP tools in a loop while the bridge ingests.

    .venv/bin/python benchmarks/soak.py                  # 5 minutes, 300k history, 20 msg/s
    .venv/bin/python benchmarks/soak.py --seconds 60

One real bridge (`python -m bridge`, simulated WhatsApp) first ingests a large synthetic history
sync, while live inbound messages are injected through its control API at a steady rate for the
whole run. Each reader process is a real MCP server (`build_server`, attached to that bridge)
driven by an in-process MCP client: list_chats, list_messages, search_messages,
get_message_context, search_contacts and get_status in a loop.

Reported: tool errors that surface SQLITE_BUSY / "database is locked" (goal 0), every other
tool error, the WAL file's size over time (goal: bounded), and tool latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_WORDS = ["dinner", "pizza", "tomorrow", "photos", "meeting", "cafe", "train", "thanks", "lunch"]


def _env(data_dir: Path, history: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "WHATSAPP_MCP_DATA_DIR": str(data_dir),
        "WHATSAPP_MCP_SIMULATE": "1",
        "WHATSAPP_MCP_SIMULATE_HISTORY": str(history),
        "WHATSAPP_MCP_SIMULATE_REPLY_DELAY": "0.5",
        "WHATSAPP_MCP_BRIDGE_IDLE_EXIT": "600",
        "WHATSAPP_MCP_LOG_LEVEL": "WARNING",
    }


# ---------------------------------------------------------------- reader process


async def _reader(seconds: float, seed: int) -> dict[str, Any]:
    from mcp import Client

    from bridge.settings import load_settings
    from mcp_server.server import build_server

    rng = random.Random(seed)
    settings = load_settings()
    latencies: list[float] = []
    busy: list[str] = []
    errors: list[str] = []
    chats: list[str] = []
    msgs: list[tuple[str, str]] = []
    async with Client(build_server(settings), cache=None) as client:

        async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
            start = time.perf_counter()
            r = await client.call_tool(name, args)
            latencies.append((time.perf_counter() - start) * 1000)
            if r.is_error:
                text = " ".join(getattr(c, "text", "") for c in r.content)
                low = text.lower()
                (busy if "locked" in low or "busy" in low else errors).append(f"{name}: {text}")
                return {}
            return dict(r.structured_content or {})

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pick = rng.random()
            if pick < 0.25 or not chats:
                page = await call("list_chats", {"limit": 20})
                chats = [c["chat"] for c in page.get("items", [])] or chats
            elif pick < 0.5:
                page = await call("list_messages", {"chat": rng.choice(chats), "limit": 50})
                msgs = [(m["chat"], m["id"]) for m in page.get("items", [])] or msgs
            elif pick < 0.7:
                await call("search_messages", {"query": rng.choice(_WORDS), "limit": 20})
            elif pick < 0.8 and msgs:
                chat, mid = rng.choice(msgs)
                await call("get_message_context", {"chat": chat, "message_id": mid})
            elif pick < 0.95:
                await call("search_contacts", {"query": rng.choice(["a", "e", "+1", "an"])})
            else:
                await call("get_status", {})
    return {"latencies": latencies, "busy": busy, "errors": errors}


def reader_main(seconds: float, seed: int, out: Path) -> None:
    out.write_text(json.dumps(asyncio.run(_reader(seconds, seed))), encoding="utf-8")


# ---------------------------------------------------------------- the run


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def run_soak(
    data_dir: Path,
    *,
    seconds: float,
    readers: int = 4,
    history: int = 300_000,
    rate: float = 20.0,
    log: bool = False,
) -> dict[str, Any]:
    from bridge.control.client import ControlClient
    from bridge.control.errors import BridgeError
    from bridge.control.lockfile import holder_pid
    from bridge.control.models import InboundRequest
    from bridge.paths import DataPaths
    from tests.helpers import stop_bridge, wait_healthy

    paths = DataPaths(data_dir)
    paths.ensure()
    env = _env(data_dir, history)
    with open(paths.log, "ab") as bridge_log:
        bridge = subprocess.Popen(
            [sys.executable, "-m", "bridge", "--idle-exit", "600"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=bridge_log,
            stderr=bridge_log,
        )
    wal = Path(str(paths.messages_db) + "-wal")
    outs = [data_dir.parent / f"reader-{i}.json" for i in range(readers)]
    procs: list[subprocess.Popen[bytes]] = []
    wal_samples: list[tuple[float, int]] = []
    injected = inject_errors = 0
    try:
        wait_healthy(paths, timeout=60)
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--reader", str(seconds), str(i), str(outs[i])],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
            )
            for i in range(readers)
        ]
        client = ControlClient(paths)
        rng = random.Random(1)
        start = time.monotonic()
        next_sample = next_log = start
        while any(p.poll() is None for p in procs):
            now = time.monotonic()
            if now >= next_sample:
                wal_samples.append((now - start, wal.stat().st_size if wal.exists() else 0))
                next_sample += 0.5
            if log and now >= next_log:
                print(f"  t={now - start:5.0f}s wal={wal_samples[-1][1] / 1e6:6.1f} MB", flush=True)
                next_log += 30
            if now - start < seconds:
                body = InboundRequest(
                    sender=f"+1555{rng.randrange(10**7):07d}",
                    text=" ".join(rng.choice(_WORDS) for _ in range(6)),
                )
                try:
                    asyncio.run(client.simulate_inbound(body))
                    injected += 1
                except BridgeError:
                    inject_errors += 1
            time.sleep(max(0.0, 1 / rate - (time.monotonic() - now)))
        for p in procs:
            if p.wait() != 0:
                raise RuntimeError("a reader process failed")
        results = [json.loads(o.read_text(encoding="utf-8")) for o in outs]
        # Still the bridge we started: no reader's supervisor took it for hung while it was busy.
        same_bridge = bridge.poll() is None and holder_pid(paths.lock) == bridge.pid
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        stop_bridge(paths)
        try:
            bridge.wait(30)
        except subprocess.TimeoutExpired:
            bridge.kill()
    import sqlite3

    conn = sqlite3.connect(paths.messages_db)
    messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    conn.close()
    latencies = [x for r in results for x in r["latencies"]]
    sizes = [s for _, s in wal_samples]
    return {
        "seconds": seconds,
        "readers": readers,
        "tool_calls": len(latencies),
        "busy_errors": sum(len(r["busy"]) for r in results),
        "other_errors": sum(len(r["errors"]) for r in results),
        "error_samples": [e for r in results for e in r["busy"] + r["errors"]][:5],
        "p50_ms": _pct(latencies, 50),
        "p99_ms": _pct(latencies, 99),
        "max_ms": max(latencies, default=float("nan")),
        "wal_max_mb": max(sizes, default=0) / 1e6,
        "wal_final_mb": (sizes[-1] if sizes else 0) / 1e6,
        "wal_series_mb": [
            (round(t), round(s / 1e6, 1)) for t, s in wal_samples[:: max(1, len(wal_samples) // 12)]
        ],
        "injected": injected,
        "inject_errors": inject_errors,
        "messages_stored": messages,
        "same_bridge_throughout": same_bridge,
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--reader":
        reader_main(float(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--readers", type=int, default=4)
    p.add_argument("--history", type=int, default=300_000)
    p.add_argument("--rate", type=float, default=20.0, help="live messages injected per second")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        r = run_soak(
            Path(tmp) / "data",
            seconds=a.seconds,
            readers=a.readers,
            history=a.history,
            rate=a.rate,
            log=True,
        )
    print(json.dumps(r, indent=1))
    print(
        f"\nsoak {r['seconds']:.0f} s, {r['readers']} reader processes, {r['tool_calls']} tool "
        f"calls while ingesting ({r['messages_stored']} messages stored, {r['injected']} live "
        f"injected): SQLITE_BUSY surfaced to tools: {r['busy_errors']}; other tool errors: "
        f"{r['other_errors']}; tool latency p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
        f"max {r['max_ms']:.0f} ms; WAL max {r['wal_max_mb']:.1f} MB, final "
        f"{r['wal_final_mb']:.1f} MB; same bridge throughout: {r['same_bridge_throughout']}"
    )
    return 0 if r["busy_errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
