"""The send log: every outbound attempt the bridge's gate judged, and the facts it judges by.

The bridge writes here through `SendLogStore` (its own connection, `synchronous = FULL`: the log
is what keeps rate limits across restarts and crashes, so it must not lose its last commits).
MCP servers read it with `read_send_log` on a read-only connection. Message text is never stored:
only its SHA-256 and length.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from store.db import open_writer
from store.errors import StoreError
from store.models import from_ms

Outcome = Literal["sent", "refused", "failed"]


class SendAttempt(BaseModel):
    """One row to write: what was attempted, by whom, and how it ended."""

    model_config = ConfigDict(extra="forbid")

    at_ms: int
    origin: str
    kind: str
    recipient: str
    text_sha256: str | None = None
    text_length: int | None = None
    fanout_key: str | None = None
    rate_limited: bool = False
    outcome: Outcome
    reason: str | None = None
    message_id: str | None = None
    spacing_ms: int = 0


class SendLogEntry(BaseModel):
    """One attempt as the user sees it (no message text: only its hash and length)."""

    model_config = ConfigDict(extra="forbid")

    at: datetime
    origin: str = Field(description="Who asked: tool, cli, auto_reply or scheduled.")
    kind: str = Field(description="text, media, reaction, mark_read or typing.")
    recipient: str = Field(description="The chat JID the action was addressed to.")
    recipient_name: str | None = None
    text_sha256: str | None = Field(default=None, description="SHA-256 of the text, hex.")
    text_length: int | None = Field(default=None, description="Length of the text in characters.")
    outcome: Outcome
    reason: str | None = Field(
        default=None, description="Why it was refused or how it failed; null when sent."
    )
    message_id: str | None = None


class RecipientFacts(BaseModel):
    """What the store knows about a recipient, for the recipient policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    identities: frozenset[str] = Field(description="The recipient's JID and its @lid aliases.")
    is_known_group: bool = False
    is_saved_contact: bool = False
    has_written_to_me: bool = False
    group_consent: Literal["wrote", "created", "admin"] | None = Field(
        default=None,
        description="For a group: how the user showed consent to it (none: they were only "
        "added). `wrote` counts only messages typed by the user, not ones we sent.",
    )
    group_owner: str | None = Field(default=None, description="Who created the group.")


_INSERT = """
INSERT INTO send_log (at, origin, kind, recipient, text_sha256, text_length, fanout_key,
                      rate_limited, outcome, reason, message_id, spacing_ms)
VALUES (:at_ms, :origin, :kind, :recipient, :text_sha256, :text_length, :fanout_key,
        :rate_limited, :outcome, :reason, :message_id, :spacing_ms)
"""


class SendLogStore:
    """The gate's persistent state. Callers serialise access (the bridge's writer thread)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> SendLogStore:
        conn = open_writer(path)
        conn.execute("PRAGMA synchronous = FULL")
        return cls(conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def record(self, attempt: SendAttempt) -> int:
        params = attempt.model_dump()
        params["rate_limited"] = int(attempt.rate_limited)
        with self._lock:
            cur = self._conn.execute(_INSERT, params)
        return int(cur.lastrowid or 0)

    def sent_since(self, since_ms: int) -> list[int]:
        """Times (ms, oldest first) of rate-limited sends after `since_ms`."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT at FROM send_log WHERE outcome = 'sent' AND rate_limited = 1 AND at > ? "
                "ORDER BY at",
                (since_ms,),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def count_sent(self, kind: str, since_ms: int) -> int:
        """How many actions of `kind` (one that is not rate-limited: read receipts) were sent
        after `since_ms`."""
        with self._lock:
            row = self._conn.execute(
                "SELECT count(*) FROM send_log WHERE outcome = 'sent' AND rate_limited = 0 "
                "AND at > ? AND kind = ?",
                (since_ms, kind),
            ).fetchone()
        return int(row[0])

    def last_sent(self) -> tuple[int, int] | None:
        """(time, drawn spacing) of the newest rate-limited send, in ms."""
        with self._lock:
            row = self._conn.execute(
                "SELECT at, spacing_ms FROM send_log WHERE outcome = 'sent' AND rate_limited = 1 "
                "ORDER BY at DESC, id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def fanout_chats(self, fanout_key: str, since_ms: int) -> dict[str, int]:
        """Chats that got this text after `since_ms`, with the time of the newest such send."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT recipient, max(at) FROM send_log "
                "WHERE fanout_key = ? AND at > ? AND outcome = 'sent' GROUP BY recipient",
                (fanout_key, since_ms),
            ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def recipient_facts(self, chat_jid: str, self_jid: str | None = None) -> RecipientFacts:
        """The recipient's aliases, and whether it is a known group, a saved contact, or has
        written to me (any message from someone else in the direct chat); for a group, how the
        user (`self_jid`) showed consent to it."""
        with self._lock:
            ids = {chat_jid}
            for jid, lid in self._conn.execute(
                "SELECT jid, lid FROM contacts WHERE jid = ? OR lid = ?", (chat_jid, chat_jid)
            ):
                ids.add(str(jid))
                if lid:
                    ids.add(str(lid))
            marks = ", ".join("?" * len(ids))
            id_list = sorted(ids)
            group = self._conn.execute(
                "SELECT 1 FROM chats WHERE jid = ? AND is_group = 1", (chat_jid,)
            ).fetchone()
            saved = self._conn.execute(
                f"SELECT 1 FROM contacts WHERE (jid IN ({marks}) OR lid IN ({marks})) "
                "AND trim(coalesce(saved_name, '')) != '' LIMIT 1",
                id_list + id_list,
            ).fetchone()
            written = self._conn.execute(
                f"SELECT 1 FROM messages WHERE chat_jid IN ({marks}) AND is_from_me = 0 LIMIT 1",
                id_list,
            ).fetchone()
            consent, owner = self._group_consent(chat_jid, self_jid) if group else (None, None)
        return RecipientFacts(
            identities=frozenset(ids),
            is_known_group=group is not None,
            is_saved_contact=saved is not None,
            # In a group everyone "has written"; only a direct chat makes a person known.
            has_written_to_me=written is not None and group is None,
            group_consent=consent,
            group_owner=owner,
        )

    def _group_consent(
        self, group_jid: str, self_jid: str | None
    ) -> tuple[Literal["wrote", "created", "admin"] | None, str | None]:
        row = self._conn.execute("SELECT owner_jid FROM chats WHERE jid = ?", (group_jid,))
        owner = (row.fetchone() or (None,))[0]
        # A message from me that no send of ours produced: typed on the phone or on another
        # linked device. Tool and auto-reply sends are in the send log under their message id.
        typed = self._conn.execute(
            "SELECT 1 FROM messages m WHERE m.chat_jid = ? AND m.is_from_me = 1 "
            "AND m.is_auto_reply = 0 AND NOT EXISTS (SELECT 1 FROM send_log s "
            "WHERE s.message_id = m.id AND s.outcome = 'sent') LIMIT 1",
            (group_jid,),
        ).fetchone()
        if typed is not None:
            return "wrote", owner
        if self_jid is None:
            return None, owner
        me = {self_jid}
        for (lid,) in self._conn.execute("SELECT lid FROM contacts WHERE jid = ?", (self_jid,)):
            if lid:
                me.add(str(lid))
        if owner is not None and owner in me:
            return "created", owner
        marks = ", ".join("?" * len(me))
        admin = self._conn.execute(
            f"SELECT 1 FROM group_participants WHERE group_jid = ? AND jid IN ({marks}) "
            "AND (is_admin = 1 OR is_super_admin = 1)",
            [group_jid, *sorted(me)],
        ).fetchone()
        return ("admin" if admin is not None else None), owner


def read_send_log(conn: sqlite3.Connection, limit: int) -> list[SendLogEntry]:
    """The newest `limit` attempts, newest first, with the recipient's best-known name."""
    try:
        rows = conn.execute(
            """
            SELECT s.at, s.origin, s.kind, s.recipient,
                   coalesce(c.saved_name, c.push_name, c.business_name, ch.name) AS name,
                   s.text_sha256, s.text_length, s.outcome, s.reason, s.message_id
            FROM send_log s
            LEFT JOIN contacts c ON c.jid = s.recipient
            LEFT JOIN chats ch ON ch.jid = s.recipient
            ORDER BY s.at DESC, s.id DESC LIMIT ?
            """,
            (limit,),
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise StoreError(
                "The send log does not exist yet: the bridge creates it when it starts. "
                "Try again in a moment."
            ) from exc
        raise
    return [
        SendLogEntry(
            at=from_ms(int(r[0])),
            origin=r[1],
            kind=r[2],
            recipient=r[3],
            recipient_name=r[4],
            text_sha256=r[5],
            text_length=r[6],
            outcome=r[7],
            reason=r[8],
            message_id=r[9],
        )
        for r in rows
    ]
