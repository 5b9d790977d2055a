"""SIGKILL the ingest driver at random moments and check the store after every kill.

Shared by the test suite (a few kills) and `benchmarks/crash_kill.py` (hundreds).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bridge.ingest.events import apply_event
from store.db import open_writer
from store.writer import StoreWriter
from tests.helpers import eventually
from tests.reliability.ingest_driver import missing_committed, read_log
from tests.reliability.stream import (
    build_stream,
    canonical_dump,
    duplicate_count,
    store_problems,
)

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class KillResult:
    committed: int
    lost: list[str]
    problems: list[str]
    duplicated: int


@dataclass
class RoundResult:
    seed: int
    kills: list[KillResult] = field(default_factory=list)
    resumed: int = 0
    final_matches_reference: bool = False
    final_problems: list[str] = field(default_factory=list)
    diff: str = ""


def _driver(db: Path, log: Path, seed: int, n_messages: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reliability.ingest_driver",
            "--db",
            str(db),
            "--log",
            str(log),
            "--seed",
            str(seed),
            "--messages",
            str(n_messages),
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def reference_dump(
    workdir: Path, seed: int, n_messages: int
) -> dict[str, list[tuple[object, ...]]]:
    """The store after the same stream ingested in one go, without interruptions."""
    path = workdir / f"reference-{seed}.db"
    path.unlink(missing_ok=True)
    conn = open_writer(path)
    try:
        writer = StoreWriter(conn)
        for ev in build_stream(seed, n_messages).events:
            apply_event(writer, ev)
        return canonical_dump(conn)
    finally:
        conn.close()


def _diff(a: dict[str, list[tuple[object, ...]]], b: dict[str, list[tuple[object, ...]]]) -> str:
    for table in a:
        if a[table] != b.get(table):
            sa, sb = set(a[table]), set(b.get(table, []))
            only_crashed = sorted(sa - sb, key=repr)[:3]
            only_reference = sorted(sb - sa, key=repr)[:3]
            return (
                f"{table}: only in crashed run {only_crashed}, only in reference {only_reference}"
            )
    return ""


def crash_round(
    workdir: Path,
    seed: int,
    *,
    kills: int,
    n_messages: int,
    rng: random.Random,
    max_delay: float = 0.4,
    timeout: float = 60.0,
) -> RoundResult:
    """Kill the driver `kills` times, checking the store after each kill; then let it finish
    and compare the final store with an uninterrupted ingest of the same stream."""
    db, log = workdir / f"crash-{seed}.db", workdir / f"crash-{seed}.log"
    for p in (db, log, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    events = build_stream(seed, n_messages).events
    result = RoundResult(seed)
    for _ in range(kills):
        before = len(read_log(log)[0])
        proc = _driver(db, log, seed, n_messages)
        # Kill only once this run has committed something: that proves ingest resumed.
        try:
            eventually(
                lambda proc=proc, before=before: (
                    len(read_log(log)[0]) > before or proc.poll() is not None
                ),
                timeout=timeout,
                interval=0.005,
                what="the driver committing something after a restart",
            )
        except AssertionError:
            proc.kill()
            raise
        if proc.poll() is not None:
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise AssertionError(f"driver failed: {err.decode()[-2000:]}")
            break  # the stream ran out before this kill
        result.resumed += 1
        time.sleep(rng.uniform(0, max_delay))
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        committed, _ = read_log(log)
        conn = sqlite3.connect(db)
        try:
            problems = store_problems(conn)
            lost = missing_committed(conn, events, committed)
            dups = duplicate_count(conn)
        finally:
            conn.close()
        result.kills.append(KillResult(len(set(committed)), lost, problems, int(dups)))
    proc = _driver(db, log, seed, n_messages)
    _, err = proc.communicate(timeout=timeout * 4)
    if proc.returncode != 0:
        raise AssertionError(f"driver failed to finish: {err.decode()[-2000:]}")
    conn = sqlite3.connect(db)
    try:
        result.final_problems = store_problems(conn)
        final = canonical_dump(conn)
    finally:
        conn.close()
    ref = reference_dump(workdir, seed, n_messages)
    result.final_matches_reference = final == ref
    result.diff = _diff(final, ref)
    return result
