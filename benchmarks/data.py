"""The benchmark data: a store filled through the real ingest path, cached between runs.

`bridge.transport.simulated.seed.synthetic_history`
(Zipf words, one chat per ~100 messages, deterministic seed) is
fed to `StoreWriter.ingest_history` batch by batch, exactly as the bridge does with a history
sync. The result is a simulated data dir (kv transport_kind = 'simulated', so a bridge started
with WHATSAPP_MCP_SIMULATE=1 accepts it) under benchmarks/.cache/, keyed by size, seed and schema
version. Building it is itself the large-scale ingest measurement: `meta.json` keeps the
throughput and the memory growth of the building process.

    python -m benchmarks.data --messages 1000000     # build (or reuse) and print the meta
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import CACHE, ROOT, log, rss_mb

SEED = 42
# A fixed anchor keeps the data identical between runs and machines.
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def cache_dir(messages: int, seed: int = SEED) -> Path:
    from store.schema import SCHEMA_VERSION

    return CACHE / f"store-{messages}-seed{seed}-schema{SCHEMA_VERSION}"


def prepare(messages: int, seed: int = SEED) -> tuple[Path, dict[str, Any]]:
    """The cached data dir for this size (built in a child process when missing) and its meta."""
    target = cache_dir(messages, seed)
    meta = target / "meta.json"
    if not meta.exists():
        log(f"building a {messages:,}-message store through StoreWriter.ingest_history …")
        subprocess.run(
            [sys.executable, "-m", "benchmarks.data", "--messages", str(messages)]
            + ["--seed", str(seed)],
            cwd=ROOT,
            check=True,
        )
    return target, json.loads(meta.read_text(encoding="utf-8"))


def _build(target: Path, messages: int, seed: int) -> dict[str, Any]:
    from bridge.transport.simulated.seed import synthetic_history
    from store.db import open_writer
    from store.writer import StoreWriter

    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True, mode=0o700)
    conn = open_writer(tmp / "messages.db")
    writer = StoreWriter(conn)
    writer.set_kv("transport_kind", "simulated")
    rss_start, _ = rss_mb()
    rss_max = rss_start
    ingest_s = 0.0
    wall = time.perf_counter()
    done = 0
    for batch in synthetic_history(messages, seed=seed, now=NOW):
        t = time.perf_counter()
        writer.ingest_history(batch)
        ingest_s += time.perf_counter() - t
        done += len(batch.messages)
        rss_max = max(rss_max, rss_mb()[0])
        if done % 100_000 == 0:
            log(f"  {done:,} messages, {done / ingest_s:,.0f} msg/s, RSS {rss_max:.0f} MiB")
    wall = time.perf_counter() - wall
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM chats)"
    ).fetchone()
    conn.close()
    db_bytes = (tmp / "messages.db").stat().st_size
    meta = {
        "messages": counts[0],
        "chats": counts[1],
        "seed": seed,
        "ingest_seconds": round(ingest_s, 2),
        "ingest_msgs_per_s": round(messages / ingest_s),
        "generate_and_ingest_seconds": round(wall, 2),
        "rss_start_mib": round(rss_start, 1),
        "rss_max_mib": round(rss_max, 1),
        "db_bytes": db_bytes,
        **store_sizes(tmp / "messages.db"),
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return meta


def store_sizes(db: Path) -> dict[str, Any]:
    """Bytes per message: the whole file, the FTS index alone, and the raw text it indexes."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        n, text = conn.execute(
            "SELECT count(*), coalesce(sum(length(CAST(content AS BLOB))), 0) "
            "+ coalesce(sum(length(CAST(caption AS BLOB))), 0) FROM messages"
        ).fetchone()
        try:
            by_name = dict(
                conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
            )
        except sqlite3.OperationalError:  # SQLite built without dbstat
            by_name = {}
    finally:
        conn.close()
    fts = sum(v for k, v in by_name.items() if k.startswith("messages_fts"))
    table = by_name.get("messages", 0)
    indexes = sum(
        v for k, v in by_name.items() if k.startswith(("messages_by", "sqlite_autoindex_messages"))
    )
    n = max(n, 1)
    return {
        "bytes_per_message": round(db.stat().st_size / n),
        "fts_bytes_per_message": round(fts / n),
        "table_bytes_per_message": round(table / n),
        "index_bytes_per_message": round(indexes / n),
        "text_bytes_per_message": round(text / n),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.data", description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    target = cache_dir(args.messages, args.seed)
    if (target / "meta.json").exists():
        meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    else:
        meta = _build(target, args.messages, args.seed)
    sys.stderr.write(json.dumps(meta, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
