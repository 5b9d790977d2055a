"""The history sync state readers use to tell "nothing" from "not synced yet"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store import sync_state
from store.db import open_reader, open_writer
from store.writer import StoreWriter

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_chunks_accumulate_per_sync_type_until_progress_reaches_100() -> None:
    s = sync_state.record_chunk(None, now=T0, sync_type="INITIAL_BOOTSTRAP", progress=10)
    s = sync_state.record_chunk(s, now=T0 + timedelta(seconds=5), sync_type="RECENT", chunk_order=2)
    s = sync_state.record_chunk(s, now=T0 + timedelta(seconds=9), sync_type="RECENT", progress=60)
    assert s.state == "running" and s.progress == 60 and s.since == T0
    assert s.types["RECENT"].chunks == 2 and s.types["RECENT"].last_chunk_order == 2
    assert s.types["INITIAL_BOOTSTRAP"].progress == 10
    assert s.running(T0 + timedelta(seconds=10))
    done = sync_state.record_chunk(s, now=T0 + timedelta(seconds=20), progress=100)
    assert done.state == "done" and not done.running(T0 + timedelta(seconds=21))


def test_a_sync_that_went_quiet_is_not_running_and_a_new_chunk_starts_a_new_one() -> None:
    s = sync_state.record_chunk(None, now=T0, sync_type="FULL", progress=30)
    later = T0 + sync_state.QUIET_AFTER + timedelta(seconds=1)
    assert not s.running(later)
    again = sync_state.record_chunk(s, now=later, sync_type="FULL", progress=5)
    assert again.since == later and again.types["FULL"].chunks == 1


def test_the_state_round_trips_through_the_store_and_damage_reads_as_unknown(tmp_path) -> None:
    db = tmp_path / "messages.db"
    writer = StoreWriter(open_writer(db))
    reader = open_reader(db)
    assert sync_state.read_sync_state(reader) is None
    s = sync_state.record_chunk(None, now=T0, sync_type="RECENT", progress=40)
    writer.set_kv(sync_state.KV_KEY, s.model_dump_json())
    assert sync_state.read_sync_state(reader) == s
    writer.set_kv(sync_state.KV_KEY, "{not json")
    assert sync_state.read_sync_state(reader) is None
