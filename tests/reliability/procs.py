"""Real processes for the singleton and host-shutdown tests (and `benchmarks/singleton.py`): MCP
servers on stdio as a host starts them, and a census of bridge processes for a data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]


class StdioServer:
    """`python -m mcp_server serve` driven with hand-written JSON-RPC, as a host does."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mcp_server", "serve"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._responses: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._next = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                if isinstance(msg, dict) and "id" in msg:
                    self._responses[int(msg["id"])] = msg
                    self._cond.notify_all()

    def request(self, method: str, params: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        self._next += 1
        rid = self._next
        self._write({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        with self._cond:
            if not self._cond.wait_for(lambda: rid in self._responses, timeout=timeout):
                raise AssertionError(f"no answer to {method} from pid {self.proc.pid}")
            return self._responses.pop(rid)

    def _write(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()

    def initialize(self) -> None:
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "reliability", "version": "0"},
            },
        )
        self._write({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def tool(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """The tool's structured result; raises on a protocol error or a tool error."""
        r = self.request("tools/call", {"name": name, "arguments": args})
        result = r.get("result") or {}
        if "error" in r or result.get("isError"):
            raise AssertionError(f"{name} failed: {r}")
        return dict(result.get("structuredContent") or {})

    def wait_bridge(self, timeout: float = 60) -> int:
        """The bridge pid, once get_status reports one running."""
        st = eventually(
            lambda: (lambda st: st if st.get("bridge_running") else None)(
                self.tool("get_status", {})
            ),
            timeout=timeout,
            what="a running bridge in get_status",
        )
        return int(st["bridge_pid"])

    def close(self, timeout: float = 10) -> float:
        """Close stdin as a host does; returns how long the server took to exit."""
        assert self.proc.stdin is not None
        start = time.monotonic()
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        took = time.monotonic() - start
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return took


def bridge_processes(data_dir: Path) -> list[int]:
    """Live (not zombie) `python -m bridge` processes serving `data_dir` (Linux /proc)."""
    want = f"WHATSAPP_MCP_DATA_DIR={data_dir}".encode()
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if b"bridge" not in cmd or b"-m" not in cmd:
                continue
            if want not in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                continue
            stat = Path(f"/proc/{entry}/stat").read_text(encoding="utf-8")
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.append(int(entry))
    return sorted(found)


def wait_for(check: Any, timeout: float, what: str) -> Any:
    return eventually(check, timeout=timeout, what=what)


def singleton_trial(data_dir: Path, *, servers: int = 5, idle_exit: float = 1.0) -> dict[str, Any]:
    """Start `servers` MCP servers at once on one data dir; check they share one bridge, that
    the others keep working when one exits (cleanly or SIGKILLed), that each exits within 2 s of
    stdin closing, and that the bridge is gone within the idle grace once all have left."""
    env = {
        **os.environ,
        "WHATSAPP_MCP_DATA_DIR": str(data_dir),
        "WHATSAPP_MCP_SIMULATE": "1",
        "WHATSAPP_MCP_SIMULATE_REPLY_DELAY": "0.2",
        "WHATSAPP_MCP_BRIDGE_IDLE_EXIT": str(idle_exit),
    }
    procs = [StdioServer(env) for _ in range(servers)]
    exits: list[float] = []
    try:
        for p in procs:
            p.initialize()
        pids = {p.wait_bridge() for p in procs}
        assert len(pids) == 1, f"servers report different bridges: {pids}"
        (pid,) = pids
        # Bridges that lost the lock race exit at once: exactly one is left.
        alive = wait_for(
            lambda: (b := bridge_processes(data_dir)) == [pid] and b, 15, "a single bridge"
        )
        first, second, rest = procs[0], procs[1], procs[2:]
        exits.append(first.close())
        second.proc.kill()  # a host that dies without closing stdin
        second.close()
        for p in rest:
            assert p.tool("list_chats", {"limit": 3})["items"]
            assert p.wait_bridge() == pid
        assert bridge_processes(data_dir) == [pid]
        for p in rest:
            exits.append(p.close())
        closed_at = time.monotonic()
        # The bridge outlives its servers for the idle grace, then leaves no orphan behind.
        wait_for(lambda: not bridge_processes(data_dir), idle_exit + 15, "the bridge to idle out")
        return {
            "bridges": len(alive),
            "exit_seconds": exits,
            "idle_exit_after": time.monotonic() - closed_at,
        }
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.proc.kill()
                p.close()
