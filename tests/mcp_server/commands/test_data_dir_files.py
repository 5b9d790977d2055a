"""Files in the data dir: 0600 after real runs (simulated, and the neonize path offline, which
creates session.db), a rotating bridge.log, and `backup` taken while ingest is writing."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError
from bridge.paths import DataPaths
from tests.helpers import read_log, sim_env, stop_bridge, wait_healthy
from tests.reliability.procs import StdioServer, wait_for

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """A user's usual umask (022): files would be world-readable unless the bridge tightens."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _loose_modes(root: Path) -> list[str]:
    bad = []
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        try:
            st = path.stat()
        except FileNotFoundError:  # a SQLite journal lives only for one transaction
            continue
        mode = stat.S_IMODE(st.st_mode)
        want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
        if mode & ~want & 0o777 or (stat.S_ISDIR(st.st_mode) and mode != 0o700):
            bad.append(f"{path.relative_to(root)}: {oct(mode)}")
    return bad


def test_after_a_simulated_run_every_file_is_private(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    server = StdioServer(sim_env(data_dir))
    try:
        server.initialize()
        server.wait_bridge()
        chats = server.tool("list_chats", {"limit": 5})["items"]
        peer = next(c for c in chats if not c.get("group"))
        server.tool("send_message", {"to": peer["chat"], "text": "files check"})
        assert paths.log.exists() and paths.messages_db.exists()
        assert _loose_modes(data_dir) == []
    finally:
        server.close()
        stop_bridge(paths)
    assert _loose_modes(data_dir) == []


def _real_bridge(data_dir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in sim_env(data_dir).items() if k != "WHATSAPP_MCP_SIMULATE"}
    return subprocess.Popen(
        [sys.executable, "-m", "bridge", "--log-file", str(data_dir / "bridge.log")],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )


def test_the_neonize_path_creates_session_db_0600_even_offline(data_dir: Path) -> None:
    """The real transport, with or without a route to WhatsApp: whatsmeow's own sqlite creates
    session.db (and its journal) under the bridge's umask."""
    paths = DataPaths(data_dir)
    proc = _real_bridge(data_dir)
    try:
        wait_healthy(paths, timeout=60)
        wait_for(paths.session_db.exists, 60, "neonize to create session.db")
        assert _loose_modes(data_dir) == [], read_log(paths)

        dest = data_dir.parent / "backup"
        done = subprocess.run(
            [sys.executable, "-m", "mcp_server", "backup", str(dest), "--session"],
            env={k: v for k, v in sim_env(data_dir).items() if k != "WHATSAPP_MCP_SIMULATE"},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        assert "WARNING: session.db holds this device's WhatsApp keys" in done.stdout
        for name in ("messages.db", "session.db"):
            copy = dest / name
            assert stat.S_IMODE(copy.stat().st_mode) == 0o600
            conn = sqlite3.connect(copy)
            try:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            finally:
                conn.close()
        assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    finally:
        stop_bridge(paths)
        proc.wait(timeout=30)
    assert _loose_modes(data_dir) == []


def _message_ids(db: Path) -> set[str]:
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        return {f"{c}/{i}" for c, i in conn.execute("SELECT chat_jid, id FROM messages")}
    finally:
        conn.close()


def test_backup_during_a_running_ingest_is_consistent_and_complete(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    env = sim_env(data_dir, WHATSAPP_MCP_SIMULATE_HISTORY="60000")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "--log-file", str(paths.log)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        wait_healthy(paths, timeout=60)
        wait_for(lambda: len(_message_ids(paths.messages_db)) > 2000, 60, "ingest under way")
        committed = _message_ids(paths.messages_db)
        dest = data_dir.parent / "copy"
        done = subprocess.run(
            [sys.executable, "-m", "mcp_server", "backup", str(dest)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        after = _message_ids(paths.messages_db)
        copy = dest / "messages.db"
        conn = sqlite3.connect(copy)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        finally:
            conn.close()
        copied = _message_ids(copy)
        assert committed <= copied, f"{len(committed - copied)} committed messages missing"
        assert copied <= after
        # Ingest really was writing while the copy was taken.
        assert len(after) > len(committed)
        assert not (dest / "session.db").exists()
    finally:
        with_timeout_stop(paths)
        proc.wait(timeout=60)


def with_timeout_stop(paths: DataPaths) -> None:
    try:
        asyncio.run(ControlClient(paths).health(timeout=2))
    except BridgeError:
        return
    stop_bridge(paths)


def test_backup_refuses_to_overwrite_and_says_so_in_one_line(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    sqlite3.connect(data_dir / "messages.db").close()
    dest = data_dir.parent / "full"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server", "backup", str(dest)],
        env=sim_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "not an empty folder" in done.stderr
    assert (dest / "keep.txt").read_text() == "mine"


_ROTATE = """
import logging, os, sys
from pathlib import Path
from bridge.logfile import RotatingBridgeLog
path = Path(sys.argv[1])
handler = RotatingBridgeLog(path, max_bytes=2000, backups=2)
logging.getLogger().addHandler(handler)
for i in range(200):
    logging.getLogger("x").warning("line %03d %s", i, "x" * 40)
os.write(2, b"from fd 2 after rotation\\n")
"""


def test_bridge_log_rotates_with_a_size_cap_and_keeps_fd_2(tmp_path: Path) -> None:
    log = tmp_path / "bridge.log"
    subprocess.run([sys.executable, "-c", _ROTATE, str(log)], check=True, timeout=60, cwd=ROOT)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["bridge.log", "bridge.log.1", "bridge.log.2"]
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 2200
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    # Go's and Python's raw writes to fd 2 land in the current file, not a rotated one.
    assert log.read_text().rstrip().endswith("from fd 2 after rotation")
    assert "line 199" in log.read_text()
