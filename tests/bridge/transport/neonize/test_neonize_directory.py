"""Names and the LID map read from whatsmeow's own tables on the first day's timetable."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bridge.transport.neonize import directory
from bridge.transport.neonize.directory import DirectoryRefresher
from bridge.transport.neonize.session_db import read_device, read_directory, read_lid_map
from bridge.transport.protocol import ContactsEvent, TransportEvent
from tests.bridge.transport.neonize.fake_ffi_helpers import make_session_db
from tests.helpers import eventually

ME = "15550001111:7@s.whatsapp.net"


def _contact(db: Path, their: str, full: str, push: str = "") -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO whatsmeow_contacts (our_jid, their_jid, first_name, full_name, push_name,"
            " business_name) VALUES (?, ?, '', ?, ?, '')",
            (ME, their, full, push),
        )


@pytest.fixture
def session(tmp_path: Path) -> Path:
    db = tmp_path / "session.db"
    make_session_db(db)  # whatsmeow's real schema, from the real library
    return db


def test_readers_map_lids_skip_unknown_ones_and_ignore_the_dash(session: Path) -> None:
    assert read_device(session) is None and read_directory(session) == []
    with sqlite3.connect(session) as conn:
        conn.execute("INSERT INTO whatsmeow_lid_map (lid, pn) VALUES ('111', '15551110000')")
    _contact(session, "111@lid", "Mom", "-")
    _contact(session, "222@lid", "Unmapped yet")
    _contact(session, "15552220000@s.whatsapp.net", "", "Pusher")
    assert read_lid_map(session) == {"111@lid": "15551110000@s.whatsapp.net"}
    got = {(c.jid, c.lid, c.saved_name, c.push_name) for c in read_directory(session)}
    assert got == {
        ("15551110000@s.whatsapp.net", "111@lid", "Mom", None),
        ("15552220000@s.whatsapp.net", None, None, "Pusher"),
    }


def test_reads_at_start_connect_schedule_after_history_and_hourly(
    session: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(directory, "POKE_DELAY", 0.05)
    events: list[TransportEvent] = []
    lock = threading.Lock()

    def emit(ev: TransportEvent) -> None:
        with lock:
            events.append(ev)

    def names() -> set[str]:
        with lock:
            return {
                c.saved_name or ""
                for e in events
                if isinstance(e, ContactsEvent)
                for c in e.contacts
            }

    r = DirectoryRefresher(session, emit, schedule=(0.3, 0.6), every=1.5)
    _contact(session, "15550000001@s.whatsapp.net", "Before start")
    r.start()
    try:
        eventually(lambda: "Before start" in names(), interval=0.01, what="the read at start")
        r.on_connected()
        _contact(session, "15550000002@s.whatsapp.net", "Synced after connect")
        eventually(
            lambda: "Synced after connect" in names(),
            interval=0.01,
            what="a scheduled read after connect",
        )
        reads = r.reads
        _contact(session, "15550000003@s.whatsapp.net", "From a history chunk")
        r.poke()
        eventually(
            lambda: "From a history chunk" in names(), interval=0.01, what="the read after a chunk"
        )
        assert r.reads > reads
        _contact(session, "15550000004@s.whatsapp.net", "Hourly")
        eventually(lambda: "Hourly" in names(), interval=0.01, what="the periodic read")
        emitted = len(events)
        before = r.reads
        eventually(lambda: r.reads > before, interval=0.01, what="another periodic read")
        assert len(events) == emitted  # nothing changed: nothing emitted
    finally:
        r.stop()
