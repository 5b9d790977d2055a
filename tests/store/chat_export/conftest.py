from __future__ import annotations

import sqlite3
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.chat_export.run import ImportReport, import_offline
from store.db import open_reader, open_writer
from store.models import ContactRecord, GroupParticipantRecord, GroupRecord
from store.reader import StoreReader
from store.writer import StoreWriter

FIXTURES = Path(__file__).parent / "fixtures"
ALICE = "15551110001@s.whatsapp.net"
BOB = "15551110002@s.whatsapp.net"
JUERGEN = "4915112345678@s.whatsapp.net"
MARIA = "5511987654321@s.whatsapp.net"
ME = "15559999999@s.whatsapp.net"
GROUP = "120363000000000001@g.us"


class Store:
    """A real store file with the people the fixtures talk about."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "messages.db"
        self.wconn = open_writer(self.path)
        self.writer = StoreWriter(self.wconn)
        self.writer.set_kv("account_jid", ME)
        self.writer.upsert_contacts(
            [
                ContactRecord(jid=ALICE, saved_name="Alice"),
                ContactRecord(jid=BOB, push_name="Bob"),
                ContactRecord(jid=JUERGEN, saved_name="Jürgen"),
                ContactRecord(jid=MARIA, saved_name="Maria"),
                ContactRecord(jid=ME, push_name="Sam"),
            ]
        )
        self.writer.upsert_group(
            GroupRecord(
                jid=GROUP,
                name="Hiking Club",
                participants=[
                    GroupParticipantRecord(jid=ALICE),
                    GroupParticipantRecord(jid=BOB),
                    GroupParticipantRecord(jid=ME),
                ],
            )
        )
        self.rconn = open_reader(self.path)
        self.reader = StoreReader(self.rconn)

    def import_(self, path: Path, **kw: Any) -> ImportReport:
        return import_offline(path, self.writer, self.reader, self.root / "media", **kw)

    def rows(self, chat: str) -> list[dict[str, Any]]:
        self.wconn.row_factory = sqlite3.Row
        try:
            out = [
                dict(r)
                for r in self.wconn.execute(
                    "SELECT sender, sender_name, is_from_me, timestamp, kind, content, caption, "
                    "filename, media_json, deleted, edited, source FROM messages "
                    "WHERE chat_jid = ? ORDER BY timestamp, seq",
                    (chat,),
                )
            ]
        finally:
            self.wconn.row_factory = None
        return out

    def close(self) -> None:
        self.rconn.close()
        self.wconn.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path)
    yield s
    s.close()


def integrity_ok(conn: sqlite3.Connection) -> None:
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")


def tiny_png(color: tuple[int, int, int]) -> bytes:
    """A valid 1×1 PNG (written by hand so the fixture needs no image library)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    raw = b"\x00" + bytes(color)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_zip(dest: Path) -> Path:
    """The phone's "Export chat" with media: the text plus two images and a voice note under
    media/."""
    with zipfile.ZipFile(dest, "w") as zf:
        zf.write(FIXTURES / "zip_chat.txt", "WhatsApp Chat with Alice.txt")
        zf.writestr("media/IMG-20240401-WA0001.jpg", tiny_png((255, 0, 0)))
        zf.writestr("media/IMG-20240401-WA0002.jpg", tiny_png((0, 0, 255)))
        zf.writestr("media/PTT-20240401-WA0003.opus", b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead")
    return dest
