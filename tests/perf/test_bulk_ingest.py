"""Large history batches index FTS in bulk: the index stays exactly in sync, and the per-row
trigger is back for everything else, even when a batch fails half-way."""

from __future__ import annotations

import sqlite3

import pytest

from store.models import HistoryBatch, MessageRecord
from store.reader import StoreReader
from store.writer import BULK_FTS_MIN, StoreWriter
from tests.store.conftest import ALICE, BOB, msg

N = BULK_FTS_MIN + 50


def fts_in_sync(conn: sqlite3.Connection) -> None:
    # rank = 1 also compares the index with the content table (messages).
    conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")


def trigger_present(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_ai'"
    ).fetchone()
    return row is not None


def big_batch(prefix: str, chat: str = ALICE, word: str = "zebra") -> HistoryBatch:
    return HistoryBatch(
        messages=[msg(f"{prefix}{i}", chat, i, content=f"{word} number {i}") for i in range(N)]
    )


def test_a_large_history_batch_is_searchable_and_the_index_is_consistent(
    writer: StoreWriter, wconn: sqlite3.Connection, reader: StoreReader
) -> None:
    assert writer.ingest_history(big_batch("a")) == N
    fts_in_sync(wconn)
    assert trigger_present(wconn)
    assert len(reader.search_messages('"number 7"', limit=5).items) == 1
    # A live message after the bulk batch goes through the restored trigger.
    writer.ingest_message(msg("live", BOB, 9999, content="okapi"))
    fts_in_sync(wconn)
    assert [h.message.id for h in reader.search_messages("okapi").items] == ["live"]


def test_replaying_a_large_batch_adds_nothing_and_upgrades_placeholders(
    writer: StoreWriter, wconn: sqlite3.Connection, reader: StoreReader
) -> None:
    placeholder = MessageRecord.model_validate(
        {**msg("a3", ALICE, 3).model_dump(), "content": None, "is_placeholder": True}
    )
    writer.ingest_message(placeholder)
    # The batch holds the full copy of a3 (a stored placeholder) and N - 1 new messages.
    assert writer.ingest_history(big_batch("a")) == N - 1
    assert writer.ingest_history(big_batch("a")) == 0
    fts_in_sync(wconn)
    hits = reader.search_messages('"number 3"').items
    assert [h.message.id for h in hits] == ["a3"]
    assert wconn.execute("SELECT count(*) FROM messages").fetchone()[0] == N


def test_a_failing_large_batch_rolls_back_rows_and_keeps_the_trigger(
    writer: StoreWriter, wconn: sqlite3.Connection
) -> None:
    wconn.execute(
        "CREATE TEMP TRIGGER boom BEFORE INSERT ON main.messages WHEN new.content = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'boom'); END"
    )
    batch = big_batch("b")
    batch.messages.append(msg("b-last", ALICE, 5000, content="boom"))
    with pytest.raises(sqlite3.IntegrityError, match="boom"):
        writer.ingest_history(batch)
    assert wconn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert trigger_present(wconn)
    wconn.execute("DROP TRIGGER temp.boom")
    writer.ingest_message(msg("after", ALICE, 1, content="still indexed"))
    fts_in_sync(wconn)


def test_small_batches_use_the_trigger_and_stay_consistent(
    writer: StoreWriter, wconn: sqlite3.Connection, reader: StoreReader
) -> None:
    small = HistoryBatch(messages=[msg(f"s{i}", BOB, i, content="yak") for i in range(10)])
    assert writer.ingest_history(small) == 10
    fts_in_sync(wconn)
    assert len(reader.search_messages("yak", limit=50).items) == 10
