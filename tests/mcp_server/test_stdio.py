"""End to end over real stdio: the server as a host starts it, with the bridge it spawns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from bridge.paths import DataPaths
from tests.helpers import eventually, eventually_async, sim_env, stop_bridge


@pytest.fixture
def paths(data_dir: Path) -> Iterator[DataPaths]:
    yield DataPaths(data_dir)
    stop_bridge(DataPaths(data_dir))


def server_params(data_dir: Path) -> StdioServerParameters:
    env = {k: v for k, v in sim_env(data_dir).items() if k.startswith(("WHATSAPP_MCP_", "PYTHON"))}
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server", "serve", "--simulate"], env=env
    )


@pytest.mark.anyio
async def test_a_real_client_over_stdio_reads_searches_and_sends(paths: DataPaths) -> None:
    async with Client(server_params(paths.root), read_timeout_seconds=60, cache=None) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {
            "list_chats",
            "search_messages",
            "send_message",
            "simulate_incoming_message",
        } <= names

        async def seeded() -> list[dict[str, Any]] | None:
            r = await client.call_tool("list_chats", {"limit": 20})
            items = (r.structured_content or {}).get("items", [])
            return items if not r.is_error and len(items) >= 8 else None

        chats = await eventually_async(seeded, timeout=30, what="the seeded chats")
        peer = next(c for c in chats if not c.get("group"))
        sent = await client.call_tool("send_message", {"to": peer["chat"], "text": "ping"})
        assert not sent.is_error, sent.content
        hits = await client.call_tool("search_messages", {"query": "dinner"})
        assert (hits.structured_content or {})["items"]


class RawServer:
    """A server process driven with hand-written JSON-RPC, recording every stdout byte."""

    def __init__(
        self, data_dir: Path, *, simulate: bool = True, env: dict[str, str] | None = None
    ) -> None:
        args = [sys.executable, "-m", "mcp_server", "serve"] + (["--simulate"] if simulate else [])
        self.proc = subprocess.Popen(
            args,
            env=sim_env(data_dir) if env is None else {**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.lines: list[bytes] = []
        self._responses: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line)
                try:
                    msg = json.loads(line)
                except ValueError:
                    msg = {}
                if isinstance(msg, dict) and "id" in msg:
                    self._responses[int(msg["id"])] = msg
                self._cond.notify_all()

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next += 1
        rid = self._next
        self._write({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}})
        with self._cond:
            if not self._cond.wait_for(lambda: rid in self._responses, timeout=60):
                raise AssertionError(f"no answer to {method}")
            return self._responses[rid]

    def notify(self, method: str) -> None:
        self._write({"jsonrpc": "2.0", "method": method})

    def _write(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()

    def initialize(self) -> dict[str, Any]:
        r = self.send(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "0"},
            },
        )
        self.notify("notifications/initialized")
        return r

    def call(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        return self.send("tools/call", {"name": tool, "arguments": args})

    def close(self) -> float:
        """Close stdin as a host does; returns how long the server took to exit."""
        assert self.proc.stdin is not None
        start = time.monotonic()
        if self.proc.stdin.closed:
            return 0.0
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return time.monotonic() - start


def wait_seeded(server: RawServer) -> None:
    def seeded() -> bool:
        r = server.call("list_chats", {"limit": 20})
        return len(r.get("result", {}).get("structuredContent", {}).get("items", [])) >= 8

    eventually(seeded, timeout=30, interval=0.1, what="the seed")


def test_stdout_carries_only_json_rpc_and_the_server_exits_fast(paths: DataPaths) -> None:
    server = RawServer(paths.root)
    try:
        init = server.initialize()
        assert init["result"]["serverInfo"]["name"] == "whatsapp"
        assert "never instructions" in init["result"]["instructions"]
        wait_seeded(server)
        server.call("get_status", {})
        server.call("search_messages", {"query": "dinner"})
        server.call("send_message", {"to": "+15550000001", "text": "hi"})
        server.call("list_chats", {"limit": "not a number"})
    finally:
        took = server.close()
    assert server.lines
    for line in server.lines:
        msg = json.loads(line)
        assert msg.get("jsonrpc") == "2.0", line
    assert took < 2.0
    # The bridge it started outlives it, for other servers or until it idles out.
    assert paths.token.exists()


def test_two_servers_started_together_share_one_bridge(paths: DataPaths) -> None:
    a, b = RawServer(paths.root), RawServer(paths.root)
    try:
        a.initialize()
        b.initialize()
        pids = []
        for server in (a, b):

            def running(server: RawServer = server) -> dict[str, Any] | None:
                r = server.call("get_status", {})["result"]["structuredContent"]
                return r if r["bridge_running"] else None

            pids.append(eventually(running, timeout=30, interval=0.1)["bridge_pid"])
        assert pids[0] == pids[1]
        a.close()
        r = b.call("list_chats", {"limit": 1})
        assert "result" in r and not r["result"].get("isError")
    finally:
        a.close() if a.proc.poll() is None else None
        b.close()
