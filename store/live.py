"""Queries behind `wait_for_messages`: inbound messages that reached the store after a point.

"After a point" is the store's insertion order (`messages.seq`, allocated by the single writer,
so a reader sees it grow without gaps appearing later), not message time: a message delivered
late (the phone was offline) is still new to the assistant. A history-sync chunk also inserts
rows, so a floor on message time keeps old history out of "new messages".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class NewRows:
    keys: list[tuple[str, str]]  # (chat_jid, message_id) in arrival order
    last_seq: int  # the cursor position after these rows
    more: bool  # more matching rows wait beyond `limit`


def last_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(seq) FROM messages").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def new_inbound(
    conn: sqlite3.Connection,
    *,
    after_seq: int,
    floor_ms: int,
    chats: Sequence[str] = (),
    unread_only: bool = False,
    mention_of: Sequence[str] = (),
    limit: int = 50,
) -> NewRows:
    """Inbound messages with seq > `after_seq` and time >= `floor_ms` matching the filters.

    When nothing matches, the cursor still moves past what was looked at, so rows excluded by a
    filter are not examined again; `mention_of` holds the account's JIDs (phone and LID).
    """
    top = last_seq(conn)
    # A cursor past the end belongs to a store that was replaced: start from its end.
    after_seq = min(after_seq, top)
    where = ["m.seq > ?", "m.seq <= ?", "m.timestamp >= ?", "m.is_from_me = 0"]
    params: list[object] = [after_seq, top, floor_ms]
    if chats:
        where.append(f"m.chat_jid IN ({','.join('?' * len(chats))})")
        params += list(chats)
    if unread_only:
        # Correlated, so each candidate row costs one primary-key probe, never a chats scan.
        where.append(
            "EXISTS (SELECT 1 FROM chats c WHERE c.jid = m.chat_jid AND c.unread_count > 0)"
        )
    if mention_of:
        # `mentions` is a JSON list of JIDs; each JID is quoted in it.
        where.append("(" + " OR ".join("m.mentions LIKE ?" for _ in mention_of) + ")")
        params += [f'%"{jid}"%' for jid in mention_of]
    rows = conn.execute(
        f"SELECT m.seq, m.chat_jid, m.id FROM messages m WHERE {' AND '.join(where)} "
        "ORDER BY m.seq LIMIT ?",
        [*params, limit + 1],
    ).fetchall()
    if len(rows) > limit:
        kept = rows[:limit]
        return NewRows([(r[1], r[2]) for r in kept], int(kept[-1][0]), more=True)
    return NewRows([(r[1], r[2]) for r in rows], top, more=False)


def account_jids(conn: sqlite3.Connection) -> list[str]:
    """The user's own JIDs as stored (phone JID and, when known, its LID)."""
    row = conn.execute("SELECT value FROM kv WHERE key = 'account_jid'").fetchone()
    if not row or not row[0]:
        return []
    me = str(row[0])
    out = [me]
    lid = conn.execute("SELECT lid FROM contacts WHERE jid = ?", (me,)).fetchone()
    if lid and lid[0]:
        out.append(str(lid[0]))
    return out


def is_saved_contact(conn: sqlite3.Connection, jid: str) -> bool:
    """Whether `jid` is a person in the phone's address book (a saved name)."""
    row = conn.execute("SELECT saved_name FROM contacts WHERE jid = ?", (jid,)).fetchone()
    return bool(row and row[0])
