from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from store.db import open_reader, open_writer
from store.models import MessageRecord
from store.reader import StoreReader
from store.writer import StoreWriter

ALICE = "15551110001@s.whatsapp.net"
BOB = "15551110002@s.whatsapp.net"
CAROL = "15551110003@s.whatsapp.net"
ME = "15559999999@s.whatsapp.net"
GROUP = "120363000000000001@g.us"
ALICE_LID = "987654321012345@lid"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def msg(mid: str, chat: str = ALICE, minutes: float = 0, **kw: Any) -> MessageRecord:
    kw.setdefault("content", f"message {mid}")
    return MessageRecord(id=mid, chat_jid=chat, timestamp=at(minutes), **kw)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "messages.db"


@pytest.fixture
def wconn(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = open_writer(db_path)
    yield conn
    conn.close()


@pytest.fixture
def writer(wconn: sqlite3.Connection) -> StoreWriter:
    return StoreWriter(wconn)


@pytest.fixture
def rconn(db_path: Path, writer: StoreWriter) -> Iterator[sqlite3.Connection]:
    conn = open_reader(db_path)
    yield conn
    conn.close()


@pytest.fixture
def reader(rconn: sqlite3.Connection) -> StoreReader:
    return StoreReader(rconn)
