"""Singleton under contention, repeated: 5 MCP servers started at once on one data dir.

    .venv/bin/python benchmarks/singleton.py            # 20 trials
    .venv/bin/python benchmarks/singleton.py --trials 50

Each trial (tests/reliability/procs.py `singleton_trial`) starts the servers together as a host
that opens several windows does, checks they all report the same bridge and that exactly one
bridge process serves the data dir, closes one server's stdin and SIGKILLs another, checks the
rest still work, closes them all (each must exit within 2 s), and waits for the bridge to idle
out (grace 1 s) leaving no process behind.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reliability.procs import singleton_trial  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--servers", type=int, default=5)
    a = p.parse_args()
    ok = 0
    exits: list[float] = []
    idle: list[float] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="singleton-") as tmp:
        for i in range(a.trials):
            try:
                r = singleton_trial(Path(tmp) / f"data{i}", servers=a.servers, idle_exit=1.0)
            except AssertionError as exc:
                print(f"trial {i}: FAILED: {exc}", flush=True)
                continue
            ok += int(r["bridges"] == 1 and max(r["exit_seconds"]) < 2.0)
            exits += r["exit_seconds"]
            idle.append(r["idle_exit_after"])
            print(f"trial {i}: {r}", flush=True)
    print(
        f"\n{ok}/{a.trials} trials with {a.servers} servers started at once: exactly one bridge, "
        f"every server exited within 2 s of stdin closing (max {max(exits, default=0):.2f} s), "
        f"bridge gone {max(idle, default=0):.1f} s at most after the last server left "
        f"(idle grace 1 s); {time.monotonic() - started:.0f} s"
    )
    return 0 if ok == a.trials else 1


if __name__ == "__main__":
    raise SystemExit(main())
