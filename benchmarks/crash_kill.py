"""Crash consistency at full size: hundreds of SIGKILLs during ingest.

    .venv/bin/python benchmarks/crash_kill.py            # 220 kills (22 rounds x 10)
    .venv/bin/python benchmarks/crash_kill.py --kills 1000

Each round builds a fresh store from a different seeded stream (live messages and history
batches with duplicates, reorderings, @lid aliases, placeholders, edits, deletes, reactions and
receipts), driven by `tests/reliability/ingest_driver.py` through the bridge's real ingest path.
The driver is killed with SIGKILL at a random moment after it has committed something; after
every kill the store is checked (integrity_check, FTS5 integrity-check, foreign keys, every
logged commit present, no message stored twice), and at the end of the round the finished store
is compared with an uninterrupted ingest of the same stream.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reliability.crash import crash_round  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kills", type=int, default=220, help="total kills (default 220)")
    p.add_argument("--per-round", type=int, default=10, help="kills per store (default 10)")
    p.add_argument("--messages", type=int, default=6000, help="messages per stream")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    rng = random.Random(a.seed)
    kills = lost = duplicated = integrity_ok = rounds = matches = resumed = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crash-kill-") as tmp:
        seed = a.seed * 1000
        while kills < a.kills:
            seed += 1
            want = min(a.per_round, a.kills - kills)
            r = crash_round(Path(tmp), seed, kills=want, n_messages=a.messages, rng=rng)
            rounds += 1
            resumed += r.resumed
            matches += int(r.final_matches_reference and not r.final_problems)
            for k in r.kills:
                kills += 1
                lost += len(k.lost)
                duplicated += k.duplicated
                integrity_ok += int(not k.problems)
                if k.lost or k.problems or k.duplicated:
                    print(f"  seed {seed}: lost={k.lost[:3]} problems={k.problems}", flush=True)
            if not r.final_matches_reference:
                print(f"  seed {seed}: final store differs: {r.diff}", flush=True)
            print(
                f"round {rounds:3d} seed {seed}: {len(r.kills)} kills, "
                f"committed at kills {[k.committed for k in r.kills]}",
                flush=True,
            )
    took = time.monotonic() - started
    print()
    print(
        f"{kills} kills during ingest: {lost} lost, {duplicated} duplicated, "
        f"{integrity_ok}/{kills} integrity ok; ingest resumed after {resumed}/{kills} restarts; "
        f"{matches}/{rounds} finished stores equal to an uninterrupted ingest ({took:.0f} s)"
    )
    return 0 if lost == duplicated == 0 and integrity_ok == kills and matches == rounds else 1


if __name__ == "__main__":
    raise SystemExit(main())
