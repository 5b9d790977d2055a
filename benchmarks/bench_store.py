"""Store API scenarios: search and listing through StoreReader, against a LIKE scan."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from benchmarks.common import log, median, pct, timings_ms
from benchmarks.data import SEED

# The query the best-known WhatsApp MCP server runs for every search (lharries/whatsapp-mcp,
# whatsapp.py `list_messages(query=…)`). Its schema has no index besides primary keys, so it scans
# the table and sorts the matches: NOT INDEXED reproduces that on our file, same data, same run.
_LIKE_SQL = """
SELECT m.timestamp, m.sender, c.name, m.content, m.is_from_me, c.jid, m.id
FROM messages m NOT INDEXED JOIN chats c ON m.chat_jid = c.jid
WHERE {cond} ORDER BY m.timestamp DESC LIMIT 20
"""


def search_queries(seed: int = SEED) -> list[tuple[str, str]]:
    """(label, query) from rare to common: single words, word pairs and 3-letter prefixes."""
    from bridge.transport.simulated.seed import zipf_vocabulary

    vocab = [w for w in zipf_vocabulary(seed) if re.fullmatch(r"[a-z]{3,}", w)]
    ranks = [2500, 800, 150, 40, 0]  # positions in the filtered vocabulary: rare → most common
    out: list[tuple[str, str]] = []
    for r in ranks:
        out.append((f"word rank {r + 1}", vocab[r]))
    for r in ranks:
        out.append((f"two words rank {r + 1}", f"{vocab[r]} {vocab[r + 1]}"))
    for r in ranks:
        out.append((f"prefix rank {r + 1}", vocab[r][:3] + "*"))
    return out


def _like_cond(query: str) -> tuple[str, list[str]]:
    words = query.split()
    cond = " AND ".join("LOWER(m.content) LIKE LOWER(?)" for _ in words)
    return cond, [f"%{w.rstrip('*')}%" for w in words]


def bench_search(db: Path, repeats: int, like_repeats: int) -> dict[str, Any]:
    from store.db import open_reader
    from store.fts import build_match
    from store.reader import StoreReader

    reader = StoreReader(open_reader(db))
    raw = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    rows: list[dict[str, Any]] = []
    pooled: list[float] = []
    for label, q in search_queries():
        hits = reader._rows(  # pyright: ignore[reportPrivateUsage]
            "SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH ?",
            [build_match(q)],
        )[0]["n"]
        ours = timings_ms(lambda q=q: reader.search_messages(q, limit=20), repeats)
        cond, params = _like_cond(q)
        sql = _LIKE_SQL.format(cond=cond)
        like = timings_ms(
            lambda sql=sql, params=params: raw.execute(sql, params).fetchall(),
            like_repeats,
            warmup=0,
        )
        pooled += ours
        row = {
            "query": label,
            "text": q,
            "hits": hits,
            "p50_ms": round(median(ours), 2),
            "p99_ms": round(pct(ours, 99), 2),
            "like_ms": round(median(like), 1),
            "speedup_vs_like": round(median(like) / median(ours)),
        }
        log(f"  search {row}")
        rows.append(row)
    return {
        "queries": rows,
        "p50_ms": round(median(pooled), 2),
        "p99_ms": round(pct(pooled, 99), 2),
        "min_speedup_vs_like": min(r["speedup_vs_like"] for r in rows),
        "median_speedup_vs_like": round(median([r["speedup_vs_like"] for r in rows])),
    }


def bench_listing(db: Path, repeats: int) -> dict[str, Any]:
    from store.db import open_reader
    from store.reader import StoreReader

    reader = StoreReader(open_reader(db))
    busiest = reader._rows(  # pyright: ignore[reportPrivateUsage]
        "SELECT chat_jid, count(*) AS n FROM messages GROUP BY chat_jid ORDER BY n DESC LIMIT 1"
    )[0]
    chat, chat_n = busiest["chat_jid"], busiest["n"]
    c2 = reader.list_chats(limit=20).next_cursor
    m2 = reader.list_messages(chat_jid=chat, limit=50).next_cursor
    cases = {
        "list_chats page 1": lambda: reader.list_chats(limit=20),
        "list_chats page 2": lambda: reader.list_chats(limit=20, cursor=c2),
        "list_messages page 1": lambda: reader.list_messages(chat_jid=chat, limit=50),
        "list_messages page 2": lambda: reader.list_messages(chat_jid=chat, limit=50, cursor=m2),
    }
    out: dict[str, Any] = {"chat": chat, "chat_messages": chat_n}
    for name, fn in cases.items():
        t = timings_ms(fn, repeats)
        out[name] = {"p50_ms": round(median(t), 2), "p99_ms": round(pct(t, 99), 2)}
        log(f"  {name}: {out[name]}")
    for what in ("list_chats", "list_messages"):
        p1, p2 = out[f"{what} page 1"]["p50_ms"], out[f"{what} page 2"]["p50_ms"]
        out[f"{what} page2/page1"] = round(p2 / p1, 2)
    return out
