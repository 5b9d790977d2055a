"""The one transaction helper for our SQLite connections (all in autocommit mode).

`BEGIN IMMEDIATE … COMMIT` at the outermost level (IMMEDIATE: take the write lock up front, so
a busy reader cannot make the commit fail half-way through a batch). Used inside another
transaction it is a SAVEPOINT, so a failing inner block is undone alone and the outer one can
go on. When `COMMIT` itself fails (disk full, I/O error) the transaction is rolled back, so the
connection is never left inside a half-done transaction that the next write would extend.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator

_names = itertools.count(1)


def _rollback(conn: sqlite3.Connection, statement: str = "ROLLBACK") -> None:
    # A rollback can fail after a serious error (SQLite may have rolled back already); the
    # error being raised is the one worth reporting.
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute(statement)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A transaction, or a savepoint when one is already open on `conn`."""
    if conn.in_transaction:
        name = f"sp_{next(_names)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            _rollback(conn, f"ROLLBACK TO {name}")
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        _rollback(conn)
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise
