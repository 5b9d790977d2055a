"""An impossible size in a message (more than SQLite's 64-bit integers, or negative) is refused
for that field and the message is still stored. Before, the insert raised OverflowError and
ingest dropped the message."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from bridge.ingest.events import apply_event
from bridge.transport.protocol import TransportEvent
from store.db import open_writer
from store.models import SQLITE_INT_MAX, MediaInfo
from store.writer import StoreWriter

CHAT = "15551234567@s.whatsapp.net"


def crafted_event(size: int) -> TransportEvent:
    """A message event as a transport hands it over (plain data, validated at the boundary)."""
    raw = {
        "type": "message",
        "message": {
            "id": f"CRAFTED{size & 0xFFFF}",
            "chat_jid": CHAT,
            "sender": CHAT,
            "timestamp": datetime(2024, 1, 1, tzinfo=UTC).isoformat(),
            "kind": "document",
            "caption": "the invoice",
            "media": {"mime_type": "application/pdf", "file_size": size, "width": size},
        },
    }
    return TypeAdapter(TransportEvent).validate_python(raw)


@pytest.mark.parametrize("size", [2**70, 2**64 - 1, SQLITE_INT_MAX + 1, -1])
def test_a_crafted_size_is_refused_and_the_message_kept(tmp_path: Path, size: int) -> None:
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)
    published = apply_event(writer, crafted_event(size))
    assert [e.type for e in published] == ["message"]
    row = conn.execute(
        "SELECT kind, caption, mime_type, media_json FROM messages WHERE chat_jid = ?", (CHAT,)
    ).fetchone()
    assert row is not None, "the message was dropped"
    kind, caption, mime, media_json = row
    assert (kind, caption, mime) == ("document", "the invoice", "application/pdf")
    stored = MediaInfo.model_validate_json(media_json)
    assert stored.file_size is None and stored.width is None
    assert stored.mime_type == "application/pdf"


def test_the_largest_real_size_is_kept(tmp_path: Path) -> None:
    conn = open_writer(tmp_path / "messages.db")
    apply_event(StoreWriter(conn), crafted_event(SQLITE_INT_MAX))
    (media_json,) = conn.execute("SELECT media_json FROM messages").fetchone()
    assert MediaInfo.model_validate_json(media_json).file_size == SQLITE_INT_MAX


def test_sqlite_really_cannot_hold_the_crafted_size(tmp_path: Path) -> None:
    """Why the bound exists: the raw value does not fit a SQLite integer."""
    conn = sqlite3.connect(":memory:")
    with pytest.raises(OverflowError):
        conn.execute("SELECT ?", (2**70,))
