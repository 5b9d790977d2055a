"""The scheduled-sends table on a real SQLite file: states only move forward."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.db import open_reader, open_writer
from store.errors import InvalidArgument, NotFound
from store.scheduled import ScheduleStore, list_scheduled

TOM = "447700900418@s.whatsapp.net"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ScheduleStore]:
    s = ScheduleStore(open_writer(tmp_path / "messages.db"))
    yield s
    s.close()


def test_pending_rows_come_soonest_first_then_finished_ones(
    store: ScheduleStore, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    late = store.add(TOM, "later", None, now + timedelta(hours=2), "UTC")
    soon = store.add(TOM, "soon", None, now + timedelta(hours=1), "Europe/Berlin")
    done = store.add(TOM, "done", None, now + timedelta(minutes=1), "UTC")
    assert store.next_pending() == done
    assert store.claim(done.id) and store.finish(done.id, "sent", None, "3EB0X")
    reader = open_reader(tmp_path / "messages.db")
    try:
        assert [i.id for i in list_scheduled(reader)] == [soon.id, late.id, done.id]
        assert [i.id for i in list_scheduled(reader, states=frozenset({"sent"}))] == [done.id]
    finally:
        reader.close()
    assert store.pending_count() == 2


def test_a_cancelled_row_cannot_be_claimed_and_a_claimed_one_cannot_be_cancelled(
    store: ScheduleStore,
) -> None:
    at = datetime.now(UTC) + timedelta(minutes=5)
    a = store.add(TOM, "a", None, at, "UTC")
    b = store.add(TOM, "b", None, at, "UTC")
    assert store.cancel(a.id).state == "cancelled"
    assert not store.claim(a.id)
    assert store.claim(b.id)
    with pytest.raises(InvalidArgument, match="already sending"):
        store.cancel(b.id)
    with pytest.raises(NotFound, match="list_scheduled"):
        store.cancel(999)


def test_a_send_interrupted_by_a_crash_is_reported_failed_never_resent(
    store: ScheduleStore,
) -> None:
    item = store.add(TOM, "x", None, datetime.now(UTC), "UTC")
    assert store.claim(item.id)
    assert store.abandon_sending() == 1
    after = store.get(item.id)
    assert after.state == "failed" and "may not have been sent" in (after.detail or "")
    assert store.next_pending() is None
    assert not store.miss(item.id, "late")  # final states stay final
