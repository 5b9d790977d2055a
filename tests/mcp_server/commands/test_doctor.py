"""`whatsapp-mcp doctor`: version, neonize pin, libmagic, data dir, bridge, and whether WhatsApp
called this version outdated (remembered by the bridge, so it shows with the bridge down)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridge.control.versions import DISTRIBUTION, OUTDATED_KV
from bridge.transport.protocol import ConnectionEvent, ConnectionState
from store.db import open_reader
from tests.harness import autoreply_settings, inprocess_bridge, sim, wait_until
from tests.helpers import sim_env

ROOT = Path(__file__).resolve().parents[3]


def _doctor(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", "doctor"],
        env=sim_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def _kv(data_dir: Path) -> str | None:
    conn = open_reader(data_dir / "messages.db")
    try:
        row = conn.execute("SELECT value FROM kv WHERE key = ?", (OUTDATED_KV,)).fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


def test_a_fresh_install_reports_its_parts(data_dir: Path) -> None:
    done = _doctor(data_dir)
    assert done.returncode == 0, done.stdout
    out = done.stdout
    assert f"version:   {DISTRIBUTION}" in out
    assert "neonize:   0.5.2" in out
    assert "libmagic:  found" in out
    assert f"data dir:  {data_dir}" in out
    assert "bridge:    not running" in out
    assert "outdated:  no" in out


@pytest.mark.anyio
async def test_a_405_client_outdated_is_remembered_and_reported_with_the_upgrade(
    data_dir: Path,
) -> None:
    async with inprocess_bridge(autoreply_settings(data_dir)) as bridge:
        await sim(bridge).inject_event(
            ConnectionEvent(state=ConnectionState.outdated, detail="405 client outdated")
        )
        await wait_until(lambda: bool(_kv(data_dir)), what="the outdated mark")
    done = _doctor(data_dir)
    assert done.returncode == 1
    [line] = [ln for ln in done.stdout.splitlines() if ln.startswith("outdated:")]
    assert "WhatsApp called this client outdated" in line
    assert "pipx install --force" in line and "whatsapp-mcp stop" in line
