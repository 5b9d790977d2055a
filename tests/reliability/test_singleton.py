"""One bridge per data dir however many MCP servers start at once; servers exit fast when the
host closes stdin; the bridge outlives them for the others and then idles out, leaving no orphan.
`benchmarks/singleton.py` repeats the same trial many times."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.reliability.procs import singleton_trial

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="counts processes in /proc")


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(2))
def test_five_servers_at_once_share_one_bridge_and_leave_no_orphan(tmp_path: Path, trial: int):
    result = singleton_trial(tmp_path / f"data{trial}", servers=5, idle_exit=1.0)
    assert result["bridges"] == 1
    # The SDK client kills a server 2 s after closing its stdin: each must be gone before.
    assert max(result["exit_seconds"]) < 2.0, result
    assert result["idle_exit_after"] < 1.0 + 5, result
