"""Crash consistency: SIGKILL the real ingest path at random moments.

A driver process applies a long, messy event stream through `bridge.ingest.events.apply_event` on a
real `StoreWriter` and logs (fsync'd) every event whose transaction committed. After each kill
the store must pass SQLite's and FTS5's integrity checks, hold every logged event, hold no
message twice, and a restarted driver must carry on; when it finally finishes, the store must
equal one built from the same stream without interruptions. `benchmarks/crash_kill.py` runs the
same rounds with hundreds of kills.
"""

from __future__ import annotations

import random
from pathlib import Path

from tests.reliability.crash import crash_round
from tests.reliability.sizes import scaled


def test_sigkill_during_ingest_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(20240601)
    result = crash_round(tmp_path, seed=11, kills=scaled(4), n_messages=3000, rng=rng)
    assert result.kills, "no kill landed before the stream ended"
    assert result.resumed == len(result.kills)
    for i, kill in enumerate(result.kills):
        assert kill.problems == [], (i, kill.problems)
        assert kill.lost == [], (i, kill.lost[:5])
        assert kill.duplicated == 0, i
    # Each kill left more committed than the one before: ingest resumed every time.
    committed = [k.committed for k in result.kills]
    assert committed == sorted(committed)
    assert result.final_problems == []
    assert result.final_matches_reference, result.diff
