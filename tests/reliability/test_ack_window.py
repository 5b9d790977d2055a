"""The loss window stock neonize leaves open (acked before stored) is measured with real
protobufs through neonize's dispatch; `benchmarks/ack_window.py` publishes the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.ack_window import measure


@pytest.mark.anyio
async def test_every_dispatched_message_is_committed_and_the_window_is_measured(tmp_path: Path):
    r = await measure(tmp_path, idle=50, burst=300, history=1000)
    print(f"callback→commit window: {r}")
    assert r["idle"]["n"] == 50 and r["burst"]["n"] == 300
    # Generous bounds for a loaded CI machine; the point is that the pipeline commits promptly.
    assert r["idle"]["p99_ms"] < 1000, r
    assert r["behind_history_chunk"]["live_ms"] >= 0
