"""The writer's plumbing: one locked connection, transactions, JID resolution, kv."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from store import jid as jids
from store.clock import SYSTEM_CLOCK, Clock
from store.errors import InvalidArgument
from store.models import (
    ReceiptKind,
)
from store.tx import transaction

log = logging.getLogger(__name__)
R = TypeVar("R")

_STATUS_RANK_SQL = (
    "CASE {col} WHEN 'delivered' THEN 1 WHEN 'read' THEN 2 WHEN 'played' THEN 3 ELSE 0 END"
)
_STATUS_RANK = {ReceiptKind.delivered: 1, ReceiptKind.read: 2, ReceiptKind.played: 3}

_MSG_COLUMNS = (
    "id, chat_jid, sender, sender_name, content, timestamp, is_from_me, kind, caption, mime_type, "
    "filename, file_size, media_json, reply_to_id, reply_to_sender, mentions, is_auto_reply, "
    "is_placeholder, sender_wire"
)
_MSG_VALUES = ", ".join("?" * 19)
# A full copy replaces a stored placeholder in place (same seq, so FTS and links stay valid); any
# other duplicate is ignored: content changes only through edits.
_UPSERT_MESSAGE = f"""
INSERT INTO messages ({_MSG_COLUMNS}) VALUES ({_MSG_VALUES})
ON CONFLICT (chat_jid, id) DO UPDATE SET
    sender = excluded.sender, sender_name = excluded.sender_name, content = excluded.content,
    timestamp = excluded.timestamp, is_from_me = excluded.is_from_me, kind = excluded.kind,
    caption = excluded.caption, mime_type = excluded.mime_type, filename = excluded.filename,
    file_size = excluded.file_size, media_json = excluded.media_json,
    reply_to_id = excluded.reply_to_id, reply_to_sender = excluded.reply_to_sender,
    mentions = excluded.mentions, is_auto_reply = excluded.is_auto_reply, is_placeholder = 0,
    sender_wire = excluded.sender_wire
WHERE messages.is_placeholder = 1 AND excluded.is_placeholder = 0
"""

# History chunks are written with a plain insert that skips duplicates (30% faster than the upsert),
# and only a batch that met duplicates runs the upsert for its full copies.
_INSERT_NEW_MESSAGES = (
    f"INSERT INTO messages ({_MSG_COLUMNS}) VALUES ({_MSG_VALUES}) "
    "ON CONFLICT (chat_jid, id) DO NOTHING"
)
# From this many messages on, a history chunk fills the FTS index with one INSERT … SELECT instead
# of the per-row trigger (twice the ingest rate); below it the trigger's DDL round trip costs more.
BULK_FTS_MIN = 200
_FTS_TRIGGER = "messages_ai"
WRITER_CACHE_KIB = 64 * 1024

# Newest message by (timestamp, seq); last_message_at never moves back past a chat-list hint.
_REFRESH_LAST = """
UPDATE chats SET (last_message_seq, last_message_at) = (
    SELECT m.seq, max(m.timestamp, coalesce(chats.last_message_at, m.timestamp))
    FROM messages m WHERE m.chat_jid = chats.jid ORDER BY m.timestamp DESC, m.seq DESC LIMIT 1)
WHERE jid = ? AND EXISTS (SELECT 1 FROM messages WHERE chat_jid = ?)
"""

# Pending or past edits/deletes re-applied to rows just written (they may have arrived first).
_APPLY_EDITS = """
UPDATE messages SET content = mm.content, edited = 1
FROM message_mutations mm
WHERE mm.kind = 'edit' AND mm.chat_jid = messages.chat_jid AND mm.message_id = messages.id
  AND messages.seq >= ? AND (messages.edited = 0 OR messages.content IS NOT mm.content)
"""
# A delete for everyone blanks the text and caption: the row stays, marked deleted, and the
# words leave the FTS index too (StoreWriter._forget_deleted_text).
_APPLY_DELETES = """
UPDATE messages SET deleted = 1, content = NULL, caption = NULL, transcript = NULL
FROM message_mutations mm
WHERE mm.kind = 'delete' AND mm.chat_jid = messages.chat_jid AND mm.message_id = messages.id
  AND messages.seq >= ? AND (messages.deleted = 0 OR messages.content IS NOT NULL
                             OR messages.caption IS NOT NULL)
"""

# The same, driven by the mutations table (its size, not the messages table's): used when a
# batch may have upgraded old placeholders, whose seq is anywhere.
_REAPPLY_EDITS = """
UPDATE messages SET content = mm.content, edited = 1
FROM message_mutations mm
WHERE messages.seq IN (
    SELECT m.seq FROM message_mutations x CROSS JOIN messages m
    WHERE x.kind = 'edit' AND m.chat_jid = x.chat_jid AND m.id = x.message_id
      AND (m.edited = 0 OR m.content IS NOT x.content))
  AND mm.kind = 'edit' AND mm.chat_jid = messages.chat_jid AND mm.message_id = messages.id
"""
_REAPPLY_DELETES = """
UPDATE messages SET deleted = 1, content = NULL, caption = NULL, transcript = NULL
WHERE seq IN (
    SELECT m.seq FROM message_mutations x CROSS JOIN messages m
    WHERE x.kind = 'delete' AND m.chat_jid = x.chat_jid AND m.id = x.message_id
      AND (m.deleted = 0 OR m.content IS NOT NULL OR m.caption IS NOT NULL))
"""

# The same for one chat, driven by that chat's mutations (after an @lid chat is merged into it).
_APPLY_EDITS_IN_CHAT = """
UPDATE messages SET content = mm.content, edited = 1
FROM message_mutations mm
WHERE mm.chat_jid = ? AND mm.kind = 'edit' AND messages.chat_jid = mm.chat_jid
  AND messages.id = mm.message_id AND (messages.edited = 0 OR messages.content IS NOT mm.content)
"""
_APPLY_DELETES_IN_CHAT = """
UPDATE messages SET deleted = 1, content = NULL, caption = NULL, transcript = NULL
FROM message_mutations mm
WHERE mm.chat_jid = ? AND mm.kind = 'delete' AND messages.chat_jid = mm.chat_jid
  AND messages.id = mm.message_id AND (messages.deleted = 0 OR messages.content IS NOT NULL
                                       OR messages.caption IS NOT NULL)
"""

# A deleted message's edits keep no text either, whichever arrived first: applying such an edit
# marks the row edited and leaves its text blank.
_BLANK_DELETED_EDITS = """
UPDATE message_mutations SET content = NULL
WHERE kind = 'edit' AND content IS NOT NULL AND EXISTS (
    SELECT 1 FROM message_mutations d WHERE d.kind = 'delete'
      AND d.chat_jid = message_mutations.chat_jid AND d.message_id = message_mutations.message_id)
"""

_UPSERT_CONTACT = """
INSERT INTO contacts (jid, phone, saved_name, push_name, business_name, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (jid) DO UPDATE SET
    phone = coalesce(excluded.phone, phone),
    saved_name = coalesce(excluded.saved_name, saved_name),
    push_name = coalesce(excluded.push_name, push_name),
    business_name = coalesce(excluded.business_name, business_name),
    updated_at = excluded.updated_at
"""


def _nonempty(value: str | None) -> str | None:
    return value if value and value.strip() else None


class WriterBase:
    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._conn = conn
        self._clock = clock
        # A history sync inserts into four message indexes at ~10k hot spots (one per chat) and
        # at random places (message ids are random): SQLite's default 2 MiB page cache thrashes
        # at a million messages. 64 MiB is only taken as pages are touched.
        conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        conn.execute("PRAGMA temp_store = MEMORY")
        # Deleted-for-everyone text must not stay readable in freed pages of the file.
        conn.execute("PRAGMA secure_delete = ON")
        # The bridge may call from its event loop and a worker thread; one call at a time.
        self._lock = threading.RLock()
        self._lid_to_pn: dict[str, str] = {}
        self._norm_cache: dict[str, str] = {}
        self._load_lid_map()

    def _load_lid_map(self) -> None:
        rows = self._conn.execute("SELECT lid, jid FROM contacts WHERE lid IS NOT NULL")
        self._lid_to_pn = {lid: pn for lid, pn in rows}
        self._norm_cache.clear()

    @contextmanager
    def _tx(self) -> Iterator[None]:
        with self._lock:
            try:
                with transaction(self._conn):
                    yield
            except BaseException:
                # Mappings learnt inside the undone (sub)transaction are gone from the table too.
                self._load_lid_map()
                raise

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the writer's connection, for bulk writers that keep their SQL
        in their own module (the chat-export import); nested calls join the open one."""
        with self._tx():
            yield self._conn

    def resolve_jid(self, jid: str) -> str:
        """`@lid` → phone JID when the mapping is known, else the normalised JID."""
        cached = self._norm_cache.get(jid)
        if cached is not None:
            return cached
        norm = jids.normalize_jid(jid)
        if jids.is_lid(norm):
            norm = self._lid_to_pn.get(norm, norm)
        if len(self._norm_cache) > 100_000:
            self._norm_cache.clear()
        self._norm_cache[jid] = norm
        return norm

    def _resolve_loose(self, jid: str | None) -> str | None:
        """resolve_jid for secondary fields (senders, mentions): odd values kept as given."""
        if not jid:
            return None
        try:
            return self.resolve_jid(jid)
        except InvalidArgument:
            log.debug("keeping unparseable JID %r as is", jid)
            return jid.strip()

    def _ensure_chat(self, jid: str) -> None:
        self._conn.execute(
            "INSERT INTO chats (jid, is_group) VALUES (?, ?) ON CONFLICT (jid) DO NOTHING",
            (jid, int(jids.is_group(jid))),
        )

    def _refresh_last(self, chat_jids: Iterable[str]) -> None:
        self._conn.executemany(_REFRESH_LAST, [(j, j) for j in chat_jids])

    def _next_seq(self) -> int:
        return int(
            self._conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM messages").fetchone()[0]
        )

    def _forget_deleted_text(self, cur: sqlite3.Cursor) -> None:
        """After a delete blanked rows: drop the words from the FTS index's pages as well.

        The update trigger already removed the rows from the index logically, but FTS5 (before
        SQLite 3.44's secure-delete) keeps the old terms in its segments until they merge; an
        `optimize` merges them now, and `secure_delete` zeroes the freed pages.
        """
        if cur.rowcount <= 0:
            return
        self._conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')")

    def get_kv(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_kv(self, key: str, value: str) -> None:
        with self._tx():
            self._conn.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def in_transaction(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run another store module's writes (e.g. `store.coverage`) in one of our transactions."""
        with self._tx():
            return fn(self._conn)


def _json_list(items: list[str]) -> str:
    return json.dumps(items, ensure_ascii=False)
