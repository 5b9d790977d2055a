"""`whatsapp-mcp schedule add|list|cancel` against a real bridge process on simulated WhatsApp."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from bridge.paths import DataPaths
from tests.helpers import seeded_contact, sim_env

ENTRY = "import sys; from mcp_server.cli import main; sys.exit(main(sys.argv[1:]))"


def cli(paths: DataPaths, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, "schedule", *args, "--data-dir", str(paths.root)],
        env=sim_env(paths.root),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_schedule_add_list_and_cancel_from_the_terminal(running_bridge: DataPaths) -> None:
    to = seeded_contact(running_bridge)
    at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    added = cli(running_bridge, "add", to, at.isoformat(), "Happy birthday!")
    assert added.returncode == 0, added.stderr + added.stdout
    assert added.stdout.startswith("#1 ") and "pending" in added.stdout
    assert f"{at:%H:%M} UTC" in added.stdout

    listed = cli(running_bridge, "list")
    assert listed.returncode == 0 and "Happy birthday!" in listed.stdout

    naive = cli(running_bridge, "add", to, "2030-01-01 08:00", "x")
    assert naive.returncode == 2 and "no offset or time zone" in naive.stdout

    cancelled = cli(running_bridge, "cancel", "1")
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
    assert "nothing scheduled" in cli(running_bridge, "list").stdout
    assert "cancelled" in cli(running_bridge, "list", "--all").stdout
