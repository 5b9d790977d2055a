"""The sqlite-utils commands the README shows work on a real messages.db (they only read)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.store.chat_export.conftest import ALICE, FIXTURES, Store

SQLITE_UTILS = str(Path(sys.executable).parent / "sqlite-utils")
# The README's query, as a person pastes it.
FTS_QUERY = (
    "select datetime(m.timestamp / 1000, 'unixepoch') as at, coalesce(m.sender_name, m.sender, "
    "'me') as who, m.content from messages_fts f join messages m on m.seq = f.rowid where "
    "messages_fts match :q order by f.rank limit 5"
)


def run(*args: str) -> str:
    done = subprocess.run(
        [SQLITE_UTILS, *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_readme_sqlite_utils_commands_read_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.import_(FIXTURES / "android_24h_dmy_en.txt", chat=ALICE, timezone="UTC")
    store.close()
    db = str(store.path)
    counts = {t["table"]: t["count"] for t in json.loads(run("tables", db, "--counts"))}
    assert counts["messages"] == 6
    rows = json.loads(run("rows", db, "messages", "-c", "timestamp", "-c", "sender_name",
                          "-c", "content", "--limit", "5"))  # fmt: skip
    assert len(rows) == 5 and rows[1]["content"] == "Hi! Are we still on for Friday?"
    table = run("query", db, FTS_QUERY, "-p", "q", "friday", "--table")
    assert "2024-03-12 14:05:00  Alice  Hi! Are we still on for Friday?" in table
