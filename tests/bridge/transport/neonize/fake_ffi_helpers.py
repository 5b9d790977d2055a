"""Running the real bridge process on `fake_gocode` and reading what the fake saw."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError
from bridge.control.models import BridgeStatus
from bridge.paths import DataPaths
from tests.bridge.transport.neonize.fake_gocode import ENV
from tests.helpers import eventually


def make_session_db(path: Path) -> None:
    """An empty session.db holding whatsmeow's real schema, made by the real Go library."""
    from neonize.client import ClientFactory

    path.parent.mkdir(parents=True, exist_ok=True)
    assert ClientFactory.get_all_devices_from_db(str(path)) == []


class FakeBridge:
    def __init__(self, data_dir: Path, **scenario: Any) -> None:
        self.paths = DataPaths(data_dir)
        self.paths.ensure()
        self.log_path = data_dir / "fake-go.jsonl"
        if not self.paths.session_db.exists():
            make_session_db(self.paths.session_db)
        self.scenario = {"log": str(self.log_path), **scenario}
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr = data_dir / "fake-bridge.stderr"

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        self.close()  # a previous run of this bridge
        env = {
            **os.environ,
            "WHATSAPP_MCP_DATA_DIR": str(self.paths.root),
            ENV: json.dumps(self.scenario),
            "WHATSAPP_MCP_LOG_LEVEL": "INFO",
        }
        env.pop("WHATSAPP_MCP_SIMULATE", None)
        with self.stderr.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.bridge.transport.neonize.fake_bridge"]
                + ["--data-dir", str(self.paths.root), *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self.wait_for(self.healthy, "the control API", timeout=40)
        return self.proc

    def close(self) -> None:
        """Kill a bridge a failed test left behind (the fake's threads never end by themselves)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def calls(self, call: str | None = None) -> list[dict[str, Any]]:
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        rows = [json.loads(line) for line in lines if line.strip()]
        return [r for r in rows if call is None or r["call"] == call]

    def status(self) -> BridgeStatus:
        return asyncio.run(
            ControlClient(self.paths).call("GET", "/api/status", BridgeStatus, timeout=3)
        )

    def healthy(self) -> bool:
        try:
            asyncio.run(ControlClient(self.paths).health(timeout=3))
            return True
        except BridgeError:
            return False

    def wait_for(self, cond: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
        """Wait for a real condition; the bridge must stay alive meanwhile."""

        def alive_and(cond: Callable[[], Any]) -> Any:
            assert self.proc is not None and self.proc.poll() is None, (
                f"the bridge died (rc {self.proc and self.proc.returncode}) waiting for {what}; "
                f"stderr: {self.tail()}"
            )
            return cond()

        return eventually(
            lambda: alive_and(cond), timeout=timeout, interval=0.02, what=f"{what} ({self.tail()})"
        )

    def tail(self) -> str:
        try:
            return self.stderr.read_text(encoding="utf-8", errors="replace")[-3000:]
        except OSError:
            return ""

    def cli_stop(self) -> float:
        """`whatsapp-mcp stop`; returns how long until the bridge process was gone."""
        assert self.proc is not None
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "mcp_server", "stop", "--data-dir", str(self.paths.root)],
            env={**os.environ, "WHATSAPP_MCP_DATA_DIR": str(self.paths.root)},
            capture_output=True,
            timeout=30,
            check=True,
        )
        try:
            self.proc.wait(timeout=max(0.1, 10 - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the bridge still ran 10 s after stop: {self.tail()}") from None
        return time.monotonic() - started
