"""The one transaction helper: nested use is a savepoint, and a failed COMMIT is rolled back
(SQLite leaves the transaction open when COMMIT fails on a deferred constraint)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from store.tx import transaction


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    c = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    c.execute("PRAGMA foreign_keys = ON")
    c.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    c.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER "
        "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
    )
    c.execute("CREATE TABLE t (v TEXT)")
    return c


def values(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT v FROM t ORDER BY rowid")]


def test_a_failing_inner_block_is_undone_alone(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES ('outer')")
        with pytest.raises(RuntimeError), transaction(conn):
            conn.execute("INSERT INTO t VALUES ('inner')")
            raise RuntimeError("inner fails")
        conn.execute("INSERT INTO t VALUES ('after')")
    assert values(conn) == ["outer", "after"]
    assert not conn.in_transaction


def test_an_error_rolls_everything_back(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError), transaction(conn):
        conn.execute("INSERT INTO t VALUES ('x')")
        with transaction(conn):
            conn.execute("INSERT INTO t VALUES ('y')")
        raise ValueError("outer fails")
    assert values(conn) == []
    assert not conn.in_transaction


def test_a_failed_commit_is_rolled_back_and_the_connection_stays_usable(
    conn: sqlite3.Connection,
) -> None:
    with pytest.raises(sqlite3.IntegrityError), transaction(conn):
        conn.execute("INSERT INTO t VALUES ('lost')")
        conn.execute("INSERT INTO child VALUES (1, 42)")  # no parent 42: fails at COMMIT
    assert not conn.in_transaction  # without the rollback SQLite would keep it open
    assert values(conn) == []
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES ('next')")
    assert values(conn) == ["next"]
