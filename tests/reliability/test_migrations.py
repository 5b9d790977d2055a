"""Migrations, generically over `store.schema.MIGRATIONS` (other work appends to it):

- a store at every earlier version k (built with MIGRATIONS[:k] and filled with representative
  rows) migrates to the head, keeps every row, ends with the same schema as a fresh store, and
  works with the current reader and writer;
- a SIGKILL at a random moment of a migration leaves the store at one whole version, never a mix;
- a store from a newer whatsapp-mcp is refused with SchemaTooNew and a message that says what to
  do (the bridge and MCP server side of that is in test_store_damage.py).

Migrations are assumed to keep the values of existing columns; one that rewrites data on
purpose should extend `_preserved` with its own expectation.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.db import open_reader, open_writer
from store.errors import SchemaTooNew
from store.models import MessageRecord
from store.reader import StoreReader
from store.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from store.writer import StoreWriter
from tests.reliability.sizes import scaled

ROOT = Path(__file__).resolve().parents[2]
ALICE = "15557770001@s.whatsapp.net"
GROUP = "120363000000000555@g.us"

# Rows in the version-1 tables, written with version-1 columns only, so they are valid at any
# later version that keeps those columns.
_V1_ROWS = [
    "INSERT INTO chats (jid, name, is_group, unread_count, last_message_at) "
    f"VALUES ('{ALICE}', 'Alice', 0, 1, 1714560000000), ('{GROUP}', 'Family', 1, 0, NULL)",
    "INSERT INTO contacts (jid, phone, saved_name, push_name, lid, updated_at) "
    f"VALUES ('{ALICE}', '+15557770001', 'Alice', 'ali', '4455667788990@lid', 1)",
    f"INSERT INTO group_participants (group_jid, jid, is_admin) VALUES ('{GROUP}', '{ALICE}', 1)",
    "INSERT INTO messages (id, chat_jid, sender, sender_name, content, timestamp, is_from_me, "
    f"kind) VALUES ('M1', '{ALICE}', '{ALICE}', 'ali', 'pizza on friday?', 1714560000000, 0, "
    f"'text'), ('M2', '{ALICE}', NULL, NULL, 'yes, café at 9', 1714560060000, 1, 'text'), "
    f"('M3', '{GROUP}', '{ALICE}', NULL, NULL, 1714560120000, 0, 'image')",
    "UPDATE messages SET caption = 'the menu', mime_type = 'image/jpeg' WHERE id = 'M3'",
    "UPDATE messages SET edited = 1 WHERE id = 'M2'",
    f"INSERT INTO reactions VALUES ('{ALICE}', 'M1', '{ALICE}', '👍', 1714560001000)",
    f"INSERT INTO message_mutations VALUES ('{ALICE}', 'M2', 'edit', 'yes, café at 9', 1)",
    "INSERT INTO kv VALUES ('history_sync_progress', '42')",
]


def _tables(conn: sqlite3.Connection) -> list[str]:
    """Ordinary tables (not FTS shadow tables, not SQLite's own)."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    virtual = {n for n, sql in rows if sql and sql.upper().startswith("CREATE VIRTUAL")}
    return [n for n, _ in rows if n not in virtual and not any(n.startswith(v) for v in virtual)]


def _generic_row(conn: sqlite3.Connection, table: str, i: int) -> bool:
    """Best effort: one row for a table added after version 1, foreign keys pointing at rows
    that exist. False when its constraints reject generic values."""
    fks = {r[3]: (r[2], r[4]) for r in conn.execute(f"PRAGMA foreign_key_list({table})")}
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    # `CHECK (col IN ('a', 'b'))`: take the first allowed value.
    allowed = dict(re.findall(r"CHECK\s*\(\s*(\w+)\s+IN\s*\(\s*'([^']*)'", sql, re.I))
    cols, vals = [], []
    for _, name, ctype, notnull, default, pk in conn.execute(f"PRAGMA table_info({table})"):
        if pk and "INT" in (ctype or "").upper():
            continue
        if name in allowed:
            value: object = allowed[name]
        elif name in fks and not notnull:
            continue
        elif name in fks:
            ref_table, ref_col = fks[name]
            row = conn.execute(f"SELECT {ref_col or 'rowid'} FROM {ref_table} LIMIT 1").fetchone()
            if row is None:
                return False
            value = row[0]
        elif default is not None and not notnull:
            continue
        elif "INT" in (ctype or "").upper() or "REAL" in (ctype or "").upper():
            value = 1000 + i
        elif "jid" in name:
            value = ALICE
        else:
            value = f"{table}.{name}.{i}"
        cols.append(name)
        vals.append(value)
    try:
        conn.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(vals))})", vals
        )
    except sqlite3.IntegrityError:
        return False
    return True


def build_at(path: Path, version: int) -> dict[str, list[tuple[object, ...]]]:
    """A store at `version` with representative rows; returns what each table holds."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, MIGRATIONS[:version])
        conn.execute("BEGIN")
        if version >= 1:
            for sql in _V1_ROWS:
                conn.execute(sql)
        filled = {t for t in _tables(conn) if conn.execute(f"SELECT 1 FROM {t}").fetchone()}
        for table in _tables(conn):
            if table not in filled:
                for i in range(2):
                    _generic_row(conn, table, i)
        conn.execute("COMMIT")
        return {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in _tables(conn)}
    finally:
        conn.close()


def _fingerprint(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    schema = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()
    return [*schema, ("user_version", conn.execute("PRAGMA user_version").fetchone()[0])]


_fresh = itertools.count()


def fresh_fingerprint(tmp: Path, migrations: list[str]) -> list[tuple[object, ...]]:
    path = tmp / f"fresh-{next(_fresh)}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, migrations)
        return _fingerprint(conn)
    finally:
        conn.close()


def _problems(conn: sqlite3.Connection) -> list[object]:
    out: list[object] = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
    out += conn.execute("PRAGMA foreign_key_check").fetchall()
    if "messages_fts" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}:
        try:
            conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            out.append(f"fts: {exc}")
    return out


def _preserved(before: list[tuple[object, ...]], after: list[tuple[object, ...]]) -> bool:
    """Every old row is still there, its old columns unchanged (new columns appended)."""
    width = len(before[0]) if before else 0
    remaining = [row[:width] for row in after]
    for row in before:
        if row not in remaining:
            return False
        remaining.remove(row)
    return True


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_a_store_from_every_earlier_version_migrates_to_the_head(tmp_path: Path, version: int):
    path = tmp_path / "messages.db"
    before = build_at(path, version)
    conn = open_writer(path)  # what the bridge does on start
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert _problems(conn) == []
        assert _fingerprint(conn) == fresh_fingerprint(tmp_path, MIGRATIONS)
        for table, rows in before.items():
            after = conn.execute(f"SELECT * FROM {table}").fetchall()
            assert _preserved(rows, after), (table, rows, after)
        # The current code reads and writes it.
        writer = StoreWriter(conn)
        writer.ingest_message(
            MessageRecord(
                id="NEW1",
                chat_jid=ALICE,
                content="after the upgrade pizza",
                timestamp=datetime(2024, 6, 1, tzinfo=UTC),
            )
        )
        reader = StoreReader(open_reader(path))
        if version >= 1:
            hits = reader.search_messages("pizza", limit=10).items
            assert {h.message.id for h in hits} == {"M1", "NEW1"}
            assert reader.search_messages("cafe", limit=10).items[0].message.text == (
                "yes, café at 9"
            )
            assert reader.counts().messages == 4
        assert reader.list_chats(limit=10).items
    finally:
        conn.close()


# A last step slow enough to be killed half-way: a new table filled with 300k rows and indexed.
_SLOW_STEP = """
CREATE TABLE zz_slow (a INTEGER PRIMARY KEY, b TEXT NOT NULL, c INTEGER);
INSERT INTO zz_slow (b, c)
    WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000)
    SELECT hex(randomblob(16)), x FROM n;
CREATE INDEX zz_slow_b ON zz_slow (b);
"""
_CHILD = """
import sqlite3, sys
from store.schema import MIGRATIONS, migrate
slow = sys.argv[2]
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
sys.stdout.write("go\\n"); sys.stdout.flush()
migrate(conn, MIGRATIONS + ([slow] if slow else []))
"""


def test_sigkill_during_migration_leaves_a_whole_version(tmp_path: Path):
    rng = random.Random(7)
    plans = [(v, True) for v in range(SCHEMA_VERSION + 1)] + [(0, False), (0, False)]
    kinds = {}
    for v in range(SCHEMA_VERSION + 1):
        kinds[v] = fresh_fingerprint(tmp_path, MIGRATIONS[:v])
    kinds[SCHEMA_VERSION + 1] = fresh_fingerprint(tmp_path, [*MIGRATIONS, _SLOW_STEP])
    outcomes: list[int] = []
    for round_ in range(scaled(2)):
        for n, (start, slow) in enumerate(plans):
            path = tmp_path / f"kill-{round_}-{n}.db"
            before = build_at(path, start)
            proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(path), _SLOW_STEP if slow else ""],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.PIPE,
            )
            assert proc.stdout is not None and proc.stdout.readline() == b"go\n"
            time.sleep(rng.uniform(0, 0.6 if slow else 0.02))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
            conn = sqlite3.connect(path)
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                outcomes.append(version)
                assert start <= version <= SCHEMA_VERSION + int(slow)
                assert _fingerprint(conn) == kinds[version], (start, version)
                assert _problems(conn) == []
                for table, rows in before.items():
                    assert _preserved(rows, conn.execute(f"SELECT * FROM {table}").fetchall())
            finally:
                conn.close()
            # And an interrupted store finishes migrating on the next start.
            if version <= SCHEMA_VERSION:
                open_writer(path).close()
    # The slow step was caught half-way at least once (the store left at the head).
    print("migration kill outcomes (version reached):", outcomes)
    assert SCHEMA_VERSION in outcomes, outcomes


def test_a_store_from_a_newer_version_is_refused_with_a_clear_error(tmp_path: Path):
    path = tmp_path / "messages.db"
    build_at(path, SCHEMA_VERSION)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    for opener in (open_writer, open_reader):
        with pytest.raises(SchemaTooNew) as err:
            opener(path)
        msg = str(err.value)
        assert f"version {SCHEMA_VERSION + 1}" in msg and "Upgrade whatsapp-mcp" in msg
    # Refusing changed nothing.
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()
