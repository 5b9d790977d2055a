"""Process scenarios: MCP round trip over stdio, cold start, peak RSS, idle bridge memory."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, log, median, pct, rss_mb

PY = sys.executable
SERVE = [PY, "-m", "mcp_server", "serve", "--simulate"]
BARE = [PY, "-m", "benchmarks.bare_server"]


def sim_env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WHATSAPP_MCP_DATA_DIR": str(data_dir),
        "WHATSAPP_MCP_SIMULATE": "1",
        "WHATSAPP_MCP_BRIDGE_IDLE_EXIT": "5",
        "WHATSAPP_MCP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def copy_store(src: Path, dst: Path) -> None:
    """A private copy: the bridge a server spawns writes into its data dir."""
    dst.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copy2(src / "messages.db", dst / "messages.db")


def stop_bridge(data_dir: Path) -> None:
    from bridge.control.client import ControlClient
    from bridge.control.errors import BridgeError
    from bridge.paths import DataPaths

    paths = DataPaths(data_dir)
    try:
        asyncio.run(ControlClient(paths).stop(timeout=5))
    except BridgeError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and paths.token.exists():
        time.sleep(0.05)


def wait_bridge(data_dir: Path, timeout: float = 60) -> None:
    from bridge.control.client import ControlClient
    from bridge.control.errors import BridgeError
    from bridge.paths import DataPaths

    client = ControlClient(DataPaths(data_dir))
    deadline = time.monotonic() + timeout
    while True:
        try:
            asyncio.run(client.health(timeout=2))
            return
        except BridgeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# ---------------------------------------------------------------- round trip


async def _round_trip(params: Any, calls: list[tuple[str, dict[str, Any]]], repeats: int) -> dict:
    from mcp import Client

    out: dict[str, list[float]] = {}
    async with Client(params, read_timeout_seconds=120, cache=None) as client:
        for name, args in calls:
            r = await client.call_tool(name, args)  # warm-up (opens the store, fills caches)
            assert not r.is_error, r.content
        for _ in range(repeats):
            for name, args in calls:
                t = time.perf_counter()
                r = await client.call_tool(name, args)
                out.setdefault(name, []).append((time.perf_counter() - t) * 1000)
    return out


def spawn_bridge(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """A bridge for a benchmark, quiet and detached from our terminal."""
    return subprocess.Popen(
        [PY, "-m", "bridge", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _busiest_chat(db: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT chat_jid, count(*) AS n FROM messages GROUP BY chat_jid ORDER BY n DESC LIMIT 1"
        ).fetchone()
        return str(row[0])
    finally:
        conn.close()


def _in_store(db: Path, chat: str, search_word: str, repeats: int) -> dict[str, list[float]]:
    """The same two reads straight from StoreReader: what the store itself costs."""
    from benchmarks.common import timings_ms
    from store.db import open_reader
    from store.reader import StoreReader

    reader = StoreReader(open_reader(db))
    return {
        "search_messages": timings_ms(
            lambda: reader.search_messages(search_word, limit=20), repeats
        ),
        "list_messages": timings_ms(lambda: reader.list_messages(chat_jid=chat, limit=50), repeats),
    }


def bench_round_trip(data: Path, repeats: int, search_word: str) -> dict[str, Any]:
    """list_chats(20), list_messages(50) and search_messages(20) over stdio from a real client,
    beside the bare SDK's trivial tool (the floor) and the same reads in the store, one run."""
    from mcp import StdioServerParameters

    from store.jid import phone_of

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "data"
        copy_store(data, d)
        env = sim_env(d)
        chat = _busiest_chat(d / "messages.db")
        calls: list[tuple[str, dict[str, Any]]] = [
            ("list_chats", {"limit": 20}),
            ("list_messages", {"chat": phone_of(chat) or chat, "limit": 50}),
            ("search_messages", {"query": search_word, "limit": 20}),
        ]
        # Start the bridge first so its initial (simulated) sync is not timed.
        proc = spawn_bridge(env, "--idle-exit", "30")
        try:
            wait_bridge(d)
            ours = asyncio.run(
                _round_trip(
                    StdioServerParameters(command=SERVE[0], args=SERVE[1:], env=env, cwd=str(ROOT)),
                    calls,
                    repeats,
                )
            )
            sizes = asyncio.run(_text_sizes(env, calls))
        finally:
            stop_bridge(d)
            proc.wait(15)
        store = _in_store(d / "messages.db", chat, search_word, repeats)
        bare = asyncio.run(
            _round_trip(
                StdioServerParameters(command=BARE[0], args=BARE[1:], env=env, cwd=str(ROOT)),
                [("ping", {})],
                repeats,
            )
        )
    res: dict[str, Any] = {}
    for name, t in {**ours, **bare}.items():
        res[name] = {"p50_ms": round(median(t), 2), "p99_ms": round(pct(t, 99), 2)}
    floor = res["ping"]["p50_ms"]
    for name in ("list_chats", "list_messages", "search_messages"):
        res[name]["vs_bare_ping"] = round(res[name]["p50_ms"] / floor, 2)
        res[name]["text_bytes"] = sizes[name]
    for name, t in store.items():
        res[name]["in_store_p50_ms"] = round(median(t), 2)
    log(f"  round trip: {res}")
    return res


async def _text_sizes(env: dict[str, str], calls: list[tuple[str, dict[str, Any]]]) -> dict:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=SERVE[0], args=SERVE[1:], env=env, cwd=str(ROOT))
    out: dict[str, int] = {}
    async with Client(params, read_timeout_seconds=120, cache=None) as client:
        for name, args in calls:
            r = await client.call_tool(name, args)
            out[name] = sum(len(getattr(c, "text", "").encode("utf-8")) for c in r.content)
    return out


# ---------------------------------------------------------------- cold start and RSS


class _Proc:
    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.t0 = time.perf_counter()
        self.p = subprocess.Popen(
            cmd,
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.n = 0

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self.p.stdin is not None and self.p.stdout is not None
        self.n += 1
        msg = {"jsonrpc": "2.0", "id": self.n, "method": method, "params": params}
        self.p.stdin.write(json.dumps(msg).encode() + b"\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f"server exited before answering {method}")
            reply = json.loads(line)
            if reply.get("id") == self.n:
                return reply

    def notify(self, method: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}).encode() + b"\n")
        self.p.stdin.flush()

    def close(self) -> None:
        assert self.p.stdin is not None
        self.p.stdin.close()
        try:
            self.p.wait(15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def _initialize(proc: _Proc) -> float:
    from mcp.types import LATEST_PROTOCOL_VERSION

    proc.request(
        "initialize",
        {
            "protocolVersion": LATEST_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"},
        },
    )
    elapsed = (time.perf_counter() - proc.t0) * 1000
    proc.notify("notifications/initialized")
    return elapsed


def bench_start_and_memory(data: Path, repeats: int, search_words: list[str]) -> dict[str, Any]:
    ours_ms: list[float] = []
    bare_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "data"
        copy_store(data, d)
        env = sim_env(d)
        bridge = spawn_bridge(env, "--idle-exit", "60")
        try:
            wait_bridge(d)
            for _ in range(repeats):  # interleaved, so both see the same machine load
                for cmd, acc in ((SERVE, ours_ms), (BARE, bare_ms)):
                    p = _Proc(cmd, env)
                    acc.append(_initialize(p))
                    p.close()
            # Memory: after initialize and tools/list (bare: plus its one call) …
            ours, bare = _Proc(SERVE, env), _Proc(BARE, env)
            mem: dict[str, Any] = {}
            for name, p in (("server", ours), ("bare", bare)):
                _initialize(p)
                p.request("tools/list", {})
                if name == "bare":
                    p.request("tools/call", {"name": "ping", "arguments": {}})
                mem[f"{name}_peak_mib"] = round(rss_mb(p.p.pid)[1], 1)
            # … and the server's growth over listing and a search for every benchmark word.
            ours.request("tools/call", {"name": "list_chats", "arguments": {"limit": 20}})
            for w in search_words:
                ours.request(
                    "tools/call",
                    {"name": "search_messages", "arguments": {"query": w, "limit": 20}},
                )
            mem["server_peak_after_search_mib"] = round(rss_mb(ours.p.pid)[1], 1)
            ours.close()
            bare.close()
        finally:
            stop_bridge(d)
            bridge.wait(15)
    out = {
        "cold_start_ms": round(median(ours_ms), 1),
        "bare_cold_start_ms": round(median(bare_ms), 1),
        "cold_start_ratio": round(median(ours_ms) / median(bare_ms), 2),
        **mem,
        "peak_rss_ratio": round(mem["server_peak_mib"] / mem["bare_peak_mib"], 2),
    }
    log(f"  start/memory: {out}")
    return out


def bench_idle_bridge(idle_seconds: float) -> dict[str, Any]:
    """RSS of a bridge with NeonizeTransport loaded, left idle (offline it keeps retrying)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "data"
        env = {
            **os.environ,
            "WHATSAPP_MCP_DATA_DIR": str(d),
            "WHATSAPP_MCP_SIMULATE": "0",
            "WHATSAPP_MCP_LOG_LEVEL": "WARNING",
        }
        proc = spawn_bridge(env)
        try:
            wait_bridge(d)
            time.sleep(idle_seconds)
            cur, peak = rss_mb(proc.pid)
            loaded = "neonize" in Path(f"/proc/{proc.pid}/maps").read_text(errors="replace")
        finally:
            stop_bridge(d)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    out = {"idle_rss_mib": round(cur, 1), "peak_rss_mib": round(peak, 1), "neonize_loaded": loaded}
    log(f"  idle bridge: {out}")
    return out
