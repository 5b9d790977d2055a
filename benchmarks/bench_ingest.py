"""Ingest throughput: StoreWriter.ingest_history against raw executemany into the same tables."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import log, median
from benchmarks.data import NOW, SEED

_MSG_COLUMNS = (
    "id, chat_jid, sender, sender_name, content, timestamp, is_from_me, kind, caption, mime_type, "
    "filename, file_size, media_json, reply_to_id, reply_to_sender, mentions, is_auto_reply, "
    "is_placeholder"
)


def _ours(db: Path, batches: list[Any]) -> float:
    from store.db import open_writer
    from store.writer import StoreWriter

    conn = open_writer(db)
    writer = StoreWriter(conn)
    t = time.perf_counter()
    for batch in batches:
        writer.ingest_history(batch)
    # Checkpoint cost belongs to the ingest: a deferred WAL is not a free WAL.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elapsed = time.perf_counter() - t
    conn.close()
    return elapsed


def _raw(db: Path, chats: list[list[tuple[str, int]]], rows: list[list[tuple[Any, ...]]]) -> float:
    """The floor: the same rows, already converted to tuples, inserted with a plain
    executemany per batch (one transaction each); the schema's trigger keeps FTS in sync."""
    from store.db import open_writer
    from store.writer import WRITER_CACHE_KIB

    conn = open_writer(db)
    conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")  # same pragmas as the writer
    conn.execute("PRAGMA temp_store = MEMORY")
    sql = f"INSERT INTO messages ({_MSG_COLUMNS}) VALUES ({', '.join('?' * 18)})"
    t = time.perf_counter()
    for chat_rows, batch_rows in zip(chats, rows, strict=True):
        conn.execute("BEGIN")
        conn.executemany("INSERT OR IGNORE INTO chats (jid, is_group) VALUES (?, ?)", chat_rows)
        conn.executemany(sql, batch_rows)
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elapsed = time.perf_counter() - t
    conn.close()
    return elapsed


def bench_ingest(messages: int, repeats: int) -> dict[str, Any]:
    from bridge.transport.simulated.seed import synthetic_history
    from store.db import open_writer
    from store.writer import StoreWriter

    batches = list(synthetic_history(messages, seed=SEED, now=NOW))
    with tempfile.TemporaryDirectory() as tmp:
        # Tuples for the raw floor, converted once outside the timing.
        conv = StoreWriter(open_writer(Path(tmp) / "convert.db"))
        rows = [[conv._message_row(m) for m in b.messages] for b in batches]  # pyright: ignore[reportPrivateUsage]
        chats = [sorted({(str(r[1]), 0) for r in br}) for br in rows]
        ours: list[float] = []
        raw: list[float] = []
        ratios: list[float] = []
        for i in range(repeats):
            a = messages / _ours(Path(tmp) / f"ours{i}.db", batches)
            b = messages / _raw(Path(tmp) / f"raw{i}.db", chats, rows)
            ours.append(a)
            raw.append(b)
            ratios.append(a / b)
            log(f"  ingest run {i + 1}: ours {a:,.0f} msg/s, raw executemany {b:,.0f} msg/s")
            for p in Path(tmp).glob(f"*{i}.db*"):
                p.unlink()
    return {
        "messages": messages,
        "batch_size": len(batches[0].messages) if batches else 0,
        "msgs_per_s": round(median(ours)),
        "raw_msgs_per_s": round(median(raw)),
        "ratio_to_raw": round(median(ratios), 2),
    }
