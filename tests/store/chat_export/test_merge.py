"""Import and sync meet: one row per message whatever the order, with the FTS index in step."""

from __future__ import annotations

from datetime import UTC, datetime

from store.models import HistoryBatch, MessageRecord
from tests.store.chat_export.conftest import ALICE, FIXTURES, ME, Store, integrity_ok

EXPORT = FIXTURES / "android_24h_dmy_en.txt"


def synced(mid: str, when: str, text: str, *, mine: bool = False) -> MessageRecord:
    ts = datetime.fromisoformat(when).replace(tzinfo=UTC)
    return MessageRecord(
        id=mid,
        chat_jid=ALICE,
        sender=ME if mine else ALICE,
        content=text,
        timestamp=ts,
        is_from_me=mine,
    )


def count(store: Store) -> int:
    return int(store.wconn.execute("SELECT count(*) FROM messages").fetchone()[0])


def search(store: Store, word: str) -> int:
    return int(
        store.wconn.execute(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?", (word,)
        ).fetchone()[0]
    )


def test_importing_the_same_file_twice_leaves_one_row_per_message(store: Store) -> None:
    first = store.import_(EXPORT, chat=ALICE, timezone="UTC")
    second = store.import_(EXPORT, chat=ALICE, timezone="UTC")
    assert (first.imported, second.imported, second.already_present) == (6, 0, 6)
    assert count(store) == 6
    assert search(store, "friday") == 1
    integrity_ok(store.wconn)


def test_import_after_sync_skips_the_messages_sync_already_stored(store: Store) -> None:
    store.writer.ingest_history(
        HistoryBatch(
            messages=[
                # Synced copies carry seconds; the export only has the minute.
                synced("3EB0A1", "2024-03-12 14:05:41", "Hi! Are we still on for Friday?"),
                synced(
                    "3EB0A2",
                    "2024-03-12 14:07:09",
                    "Yes, 7pm\nat the usual place\n\nsee you",
                    mine=True,
                ),
                synced("3EB0A3", "2024-03-12 18:00:00", "not in the export"),
            ]
        )
    )
    report = store.import_(EXPORT, chat=ALICE, timezone="UTC")
    assert (report.imported, report.already_present) == (4, 2)
    rows = store.rows(ALICE)
    assert len(rows) == 7
    friday = [r for r in rows if r["content"] == "Hi! Are we still on for Friday?"]
    assert [r["source"] for r in friday] == [None]  # the synced copy, with its real id
    assert search(store, "friday") == 1
    integrity_ok(store.wconn)


def test_sync_after_import_replaces_the_imported_copy(store: Store) -> None:
    store.import_(EXPORT, chat=ALICE, timezone="UTC")
    # Live delivery and a history chunk both meet the imported copies.
    store.writer.ingest_message(
        synced("3EB0B1", "2024-03-25 23:59:20", "Great, see you", mine=True), live=False
    )
    store.writer.ingest_history(
        HistoryBatch(
            messages=[synced("3EB0B2", "2024-03-12 14:05:03", "Hi! Are we still on for Friday?")]
        )
    )
    rows = store.rows(ALICE)
    assert len(rows) == 6
    assert [
        r["source"]
        for r in rows
        if r["content"] in ("Great, see you", "Hi! Are we still on for Friday?")
    ] == [None, None]
    # Importing again now skips the synced ones instead of bringing the copies back.
    assert store.import_(EXPORT, chat=ALICE, timezone="UTC").imported == 0
    assert count(store) == 6
    assert search(store, "friday") == 1
    integrity_ok(store.wconn)


def test_repeated_identical_messages_in_one_minute_are_kept_apart(store: Store, tmp_path) -> None:
    export = tmp_path / "repeats.txt"
    export.write_text(
        "13/03/2024, 09:00 - Alice: ok\n13/03/2024, 09:00 - Alice: ok\n", encoding="utf-8"
    )
    store.writer.ingest_history(
        HistoryBatch(messages=[synced("3EB0C1", "2024-03-13 09:00:10", "ok")])
    )
    # One "ok" was synced: the second of the export's two is still new.
    assert store.import_(export, chat=ALICE, timezone="UTC").imported == 1
    assert store.import_(export, chat=ALICE, timezone="UTC").imported == 0
    assert [r["content"] for r in store.rows(ALICE)] == ["ok", "ok"]
