"""Per-chat history coverage: from when the store holds a chat, and whether that is its start.

After pairing, WhatsApp pushes history in chunks for minutes to hours and some chats arrive only
partly. For each conversation in a chunk the phone may say the transfer of that chat ended
(whatsmeow's `Conversation.endOfHistoryTransfer` with `endOfHistoryTransferType`): either the
start of the chat is here, or older messages stay on the phone. The bridge records that in
`chat_history`; readers combine it with the oldest stored message and the sync state, so the
model can tell "start of chat" from "older history not synced".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

from store import sync_state
from store.models import Coverage, HistoryEnd, from_ms, to_ms

# Upgrades only: once the phone said a chat's start is here, a later (or re-ordered) chunk that
# says "more on the phone" about the same chat must not take it back.
_RECORD = """
INSERT INTO chat_history (chat_jid, end_type, updated_at) VALUES (?, ?, ?)
ON CONFLICT (chat_jid) DO UPDATE SET
    end_type = CASE WHEN end_type = 'complete' THEN 'complete' ELSE excluded.end_type END,
    updated_at = excluded.updated_at
"""


def record_history_end(
    conn: sqlite3.Connection, ends: Iterable[tuple[str, HistoryEnd]], now: datetime
) -> None:
    """Store what the phone said about each (canonical) chat JID. The bridge is the only
    caller, inside a writer transaction (`StoreWriter.in_transaction`)."""
    rows = [(jid, end, to_ms(now)) for jid, end in ends]
    conn.executemany(_RECORD, rows)


def history_end(conn: sqlite3.Connection, chat_jid: str) -> HistoryEnd | None:
    try:
        row = conn.execute(
            "SELECT end_type FROM chat_history WHERE chat_jid = ?", (chat_jid,)
        ).fetchone()
    except sqlite3.OperationalError:  # a store not yet migrated: nothing was said
        return None
    return row[0] if row else None


def oldest_message_at(conn: sqlite3.Connection, chat_jid: str) -> datetime | None:
    # messages_by_chat_time makes this one index probe.
    row = conn.execute(
        "SELECT min(timestamp) FROM messages WHERE chat_jid = ?", (chat_jid,)
    ).fetchone()
    return from_ms(int(row[0])) if row and row[0] is not None else None


def chat_coverage(conn: sqlite3.Connection, chat_jid: str, *, syncing: bool) -> Coverage:
    """The coverage of one chat; `syncing` says whether a history sync is still running."""
    end = history_end(conn, chat_jid)
    if end == "complete":
        older = "none"
    elif end is not None:
        older = "on_phone"
    elif syncing:
        older = "not_synced_yet"
    else:
        older = "unknown"
    return Coverage(
        history_since=oldest_message_at(conn, chat_jid), complete=end == "complete", older=older
    )


def coverage_now(conn: sqlite3.Connection, chat_jid: str) -> Coverage:
    """`chat_coverage` with "syncing" taken from the stored history-sync state."""
    state = sync_state.read_sync_state(conn)
    syncing = state is not None and state.running(datetime.now(UTC))
    return chat_coverage(conn, chat_jid, syncing=syncing)
