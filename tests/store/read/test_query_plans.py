"""The hot queries must be served by indexes: no full scan of messages, no sort of all rows."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from store.models import ChatRecord, HistoryBatch
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.store.conftest import ALICE, BOB, msg


@pytest.fixture
def filled(writer: StoreWriter, wconn: sqlite3.Connection) -> None:
    chats = [f"1555300{i:04d}@s.whatsapp.net" for i in range(50)]
    writer.ingest_history(
        HistoryBatch(
            chats=[ChatRecord(jid=j) for j in chats],
            messages=[
                msg(f"m{i}", chats[i % 50], i, sender=BOB, content=f"word{i % 13} pizza")
                for i in range(2000)
            ],
        )
    )
    wconn.execute("ANALYZE")


def plans(rconn: sqlite3.Connection, call: Callable[[], Any]) -> list[tuple[str, str]]:
    """EXPLAIN QUERY PLAN of every statement `call` runs (with its literal parameters)."""
    statements: list[str] = []
    rconn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        rconn.set_trace_callback(None)
    out = []
    for sql in statements:
        if sql.startswith("--"):  # SQLite's own bookkeeping (PRAGMA data_version)
            continue
        try:
            rows = rconn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        except sqlite3.OperationalError as e:
            raise AssertionError(sql[-300:]) from e
        out.append((sql, "\n".join(str(r[-1]) for r in rows)))
    return out


_FULL_SCAN = re.compile(r"\bSCAN (messages|m)\b(?! USING (COVERING )?INDEX| VIRTUAL)")


@pytest.mark.parametrize(
    "name, call",
    [
        ("list_chats", lambda r: r.list_chats(limit=20)),
        ("list_chats page 2", lambda r: r.list_chats(cursor=r.list_chats(limit=5).next_cursor)),
        ("list_messages chat", lambda r: r.list_messages(chat_jid="15553000001@s.whatsapp.net")),
        ("list_messages sender", lambda r: r.list_messages(sender=BOB, order="oldest")),
        ("list_messages all", lambda r: r.list_messages(limit=10)),
        (
            "list_messages page 2",
            lambda r: r.list_messages(cursor=r.list_messages(limit=5).next_cursor),
        ),
        ("search", lambda r: r.search_messages("pizza", limit=10)),
        ("search in chat", lambda r: r.search_messages("word3", chat_jid=ALICE)),
        ("context", lambda r: r.get_message_context("15553000001@s.whatsapp.net", "m51")),
    ],
)
def test_hot_queries_use_indexes(filled, rconn, reader: StoreReader, name: str, call) -> None:
    for sql, plan in plans(rconn, lambda: call(reader)):
        assert not _FULL_SCAN.search(plan), f"{name}: full scan of messages\n{plan}"
        listing = "FROM messages m WHERE" in sql or "FROM chats c" in sql
        if name.startswith("list_") and listing:
            assert "TEMP B-TREE" not in plan, f"{name}: sorts instead of walking an index\n{plan}"
