"""Opening the store: one writer (the bridge) and any number of read-only readers."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from store.errors import SchemaTooNew, StoreCorrupt, StoreError
from store.schema import SCHEMA_VERSION, migrate

BUSY_TIMEOUT_MS = 5000


# WhatsApp sends history only to a newly paired device, so moving the store aside loses what
# the damaged copy held unless it is recovered first.
RECOVERY_ADVICE = (
    "Stop whatsapp-mcp (`whatsapp-mcp stop`), keep a copy of messages.db, and try "
    "`sqlite3 messages.db '.recover' | sqlite3 recovered.db`; then move messages.db aside and put "
    "recovered.db in its place, or start with no messages.db to get an empty store (new messages "
    "are stored again; old history returns only if you unlink and pair again). Your WhatsApp "
    "pairing (session.db) is not affected."
)


def corruption(exc: sqlite3.DatabaseError, path: Path | str) -> StoreCorrupt | None:
    """The typed error for SQLite's damage reports; None for any other database error."""
    text = str(exc)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreCorrupt(f"The message store {path} is damaged ({text}). {RECOVERY_ADVICE}")
    return None


def _classify(exc: sqlite3.DatabaseError, path: Path) -> StoreError:
    return corruption(exc, path) or StoreError(f"Cannot open the message store {path}: {exc}")


def open_writer(path: Path) -> sqlite3.Connection:
    """The single writing connection: WAL, foreign keys, migrations applied.

    Autocommit mode; writers wrap batches in explicit transactions. `check_same_thread` is off
    because the bridge hands the connection to a worker thread for large batches; callers
    serialise access.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if new:
            os.chmod(path, 0o600)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode survives process crashes; only power loss may drop the last commits.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise _classify(exc, path) from exc
    return conn


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (`mode=ro` plus `query_only`): writes through it raise."""
    if not path.exists():
        raise StoreError(
            f"The message store {path} does not exist yet: the bridge creates it when it first "
            "starts."
        )
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        # Damaged text (bit rot, a torn write by another program) reads as U+FFFD instead of
        # failing the whole query: the rest of the page is still worth showing.
        conn.text_factory = _lenient_text
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise _classify(exc, path) from exc
    if version > SCHEMA_VERSION:
        conn.close()
        # Its tables may have changed shape: reading it with this version's queries could
        # return wrong answers, so refuse as the writer does.
        raise SchemaTooNew(
            f"The message store {path} is at schema version {version}, but this whatsapp-mcp "
            f"only knows up to {SCHEMA_VERSION}. Upgrade whatsapp-mcp (README: Upgrading, "
            "from your clone or a newer bundle) and restart your MCP host."
        )
    return conn
