"""Bridge lifecycle: singleton lock and idle exit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from bridge.control.client import ControlClient
from bridge.paths import DataPaths
from tests.helpers import sim_env, wait_healthy


def spawn(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bridge", *args],
        env=sim_env(data_dir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_second_bridge_on_the_same_data_dir_exits_and_leaves_the_first(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    first = spawn(data_dir, "--idle-exit", "30")
    try:
        wait_healthy(paths)
        pid = asyncio.run(ControlClient(paths).health()).pid
        second = spawn(data_dir, "--idle-exit", "30")
        out, err = second.communicate(timeout=30)
        assert second.returncode == 0
        assert b"already running" in err
        assert out == b""
        assert asyncio.run(ControlClient(paths).health()).pid == pid == first.pid
    finally:
        first.terminate()
        first.communicate(timeout=15)
    assert first.returncode == 0
    assert not paths.token.exists() and not paths.socket.exists()


def test_an_unattached_bridge_exits_after_the_idle_grace(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    proc = spawn(data_dir, "--idle-exit", "1")
    wait_healthy(paths)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert out == b"", "the bridge must never write to stdout"
    assert b"exiting" in err
    assert not paths.token.exists()
