"""The single writer of the message store (used by the bridge only).

Every fact is written idempotently: the same message, reaction, edit or receipt delivered twice
(live and again by history sync, after reconnects, retries) leaves the store as if it arrived once.
JIDs are normalised and `@lid` aliases mapped to phone-number JIDs before anything is written, so
one person is one chat.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from store import jid as jids
from store.clock import SYSTEM_CLOCK, Clock, now_ms
from store.errors import InvalidArgument
from store.models import (
    ChatRecord,
    ContactRecord,
    DeleteRecord,
    EditRecord,
    GroupRecord,
    HistoryBatch,
    MediaInfo,
    MessageKind,
    MessageRecord,
    ReactionRecord,
    ReceiptKind,
    ReceiptRecord,
    to_ms,
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


class StoreWriter:
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

    # ------------------------------------------------------------------ plumbing

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

    def _message_row(self, rec: MessageRecord) -> tuple[object, ...]:
        chat_jid = self.resolve_jid(rec.chat_jid)
        sender = self._resolve_loose(rec.sender)
        if sender is None and not rec.is_from_me and not jids.is_group(chat_jid):
            sender = chat_jid
        media = rec.media
        mentions = [m for m in (self._resolve_loose(x) for x in rec.mentions) if m]
        return (
            rec.id,
            chat_jid,
            sender,
            _nonempty(rec.sender_name),
            rec.content,
            to_ms(rec.timestamp),
            int(rec.is_from_me),
            rec.kind.value,
            rec.caption,
            media.mime_type if media else None,
            media.filename if media else None,
            media.file_size if media else None,
            media.model_dump_json(exclude_none=True) if media else None,
            rec.reply_to_id,
            self._resolve_loose(rec.reply_to_sender),
            _json_list(mentions) if mentions else None,
            int(rec.is_auto_reply),
            int(rec.is_placeholder),
            rec.sender_wire if rec.sender_wire and rec.sender_wire != sender else None,
        )

    def _next_seq(self) -> int:
        return int(
            self._conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM messages").fetchone()[0]
        )

    def _apply_mutations_from(self, first_seq: int) -> None:
        self._conn.execute(_APPLY_EDITS, (first_seq,))
        self._forget_deleted_text(self._conn.execute(_APPLY_DELETES, (first_seq,)))

    def _forget_deleted_text(self, cur: sqlite3.Cursor) -> None:
        """After a delete blanked rows: drop the words from the FTS index's pages as well.

        The update trigger already removed the rows from the index logically, but FTS5 (before
        SQLite 3.44's secure-delete) keeps the old terms in its segments until they merge; an
        `optimize` merges them now, and `secure_delete` zeroes the freed pages.
        """
        if cur.rowcount <= 0:
            return
        self._conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')")

    def _apply_mutations_to(self, chat_jid: str, message_id: str) -> None:
        row = self._conn.execute(
            "SELECT seq FROM messages WHERE chat_jid = ? AND id = ?", (chat_jid, message_id)
        ).fetchone()
        if row is None:
            return
        seq = int(row[0])
        self._conn.execute(_APPLY_EDITS + " AND messages.seq = ?", (seq, seq))
        self._forget_deleted_text(
            self._conn.execute(_APPLY_DELETES + " AND messages.seq = ?", (seq, seq))
        )

    # ------------------------------------------------------------------ messages

    def ingest_message(
        self,
        rec: MessageRecord,
        *,
        contact: ContactRecord | None = None,
        chat: ChatRecord | None = None,
        live: bool = True,
    ) -> bool:
        """Store one message; True when it was not stored before."""
        with self._tx():
            if contact is not None:
                self._upsert_contacts([contact])
            if chat is not None:
                self._upsert_chat(chat)
            row = self._message_row(rec)
            chat_jid = str(row[1])
            self._ensure_chat(chat_jid)
            before = self._conn.execute(
                "SELECT seq, is_placeholder FROM messages WHERE chat_jid = ? AND id = ?",
                (chat_jid, rec.id),
            ).fetchone()
            self._conn.execute(_UPSERT_MESSAGE, row)
            inserted = before is None
            if inserted or (before[1] and not rec.is_placeholder):
                self._apply_mutations_to(chat_jid, rec.id)
                self._refresh_last([chat_jid])
            if live and rec.is_from_me and inserted:
                # Only a new message of mine means I caught up: a re-delivered old one (after a
                # reconnect) must not clear newer unread messages.
                self._conn.execute("UPDATE chats SET unread_count = 0 WHERE jid = ?", (chat_jid,))
            elif live and inserted and not rec.is_from_me and rec.kind is not MessageKind.unknown:
                self._conn.execute(
                    "UPDATE chats SET unread_count = unread_count + 1 WHERE jid = ?", (chat_jid,)
                )
            return inserted

    def ingest_history(self, batch: HistoryBatch) -> int:
        """Write a history-sync chunk in one transaction; returns how many messages were new."""
        with self._tx():
            # Contacts first: their LID mappings decide which chat each message belongs to.
            self._upsert_contacts(batch.contacts)
            for chat in batch.chats:
                self._upsert_chat(chat)
            if not batch.messages:
                return 0
            rows = [self._message_row(m) for m in batch.messages]
            chat_jids = {str(r[1]) for r in rows}
            self._conn.executemany(
                "INSERT INTO chats (jid, is_group) VALUES (?, ?) ON CONFLICT (jid) DO NOTHING",
                [(j, int(jids.is_group(j))) for j in chat_jids],
            )
            first_seq = self._next_seq()
            new = self._insert_history_rows(rows, first_seq)
            if new < len(rows):
                # Duplicates: a full copy may upgrade a stored placeholder (the FTS trigger is
                # back in place, so the update keeps the index in sync).
                full = [
                    r for r, m in zip(rows, batch.messages, strict=True) if not m.is_placeholder
                ]
                self._conn.executemany(_UPSERT_MESSAGE, full)
            # Placeholders upgraded in place keep their old seq: re-apply mutations to them too.
            if any(not m.is_placeholder for m in batch.messages) and self._has_mutations():
                self._conn.execute(_REAPPLY_EDITS)
                self._forget_deleted_text(self._conn.execute(_REAPPLY_DELETES))
            else:
                self._apply_mutations_from(first_seq)
            self._refresh_last(chat_jids)
            return new

    def _insert_history_rows(self, rows: list[tuple[object, ...]], first_seq: int) -> int:
        """Insert the rows not stored yet, keeping messages_fts in sync; returns how many.

        New rows get seq >= first_seq (seq is max + 1), so for a large batch the per-row FTS
        trigger is dropped and the new rows are indexed in one statement, then the trigger is
        recreated from its stored SQL. All of it happens inside the caller's transaction: other
        connections never see the trigger missing or the index behind, and a failure rolls the
        DDL back with the rows.
        """
        c = self._conn
        trigger_sql: str | None = None
        if len(rows) >= BULK_FTS_MIN:
            row = c.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                (_FTS_TRIGGER,),
            ).fetchone()
            trigger_sql = None if row is None else str(row[0])
        if trigger_sql is not None:
            c.execute(f"DROP TRIGGER {_FTS_TRIGGER}")
        c.executemany(_INSERT_NEW_MESSAGES, rows)
        if trigger_sql is not None:
            c.execute(
                "INSERT INTO messages_fts (rowid, content, caption) "
                "SELECT seq, content, caption FROM messages WHERE seq >= ?",
                (first_seq,),
            )
            c.execute(trigger_sql)
        return int(
            c.execute("SELECT count(*) FROM messages WHERE seq >= ?", (first_seq,)).fetchone()[0]
        )

    def _has_mutations(self) -> bool:
        return self._conn.execute("SELECT 1 FROM message_mutations LIMIT 1").fetchone() is not None

    def record_sent(self, rec: MessageRecord) -> None:
        """Store a message this account just sent, before any echo or receipt arrives."""
        mine = rec if rec.is_from_me else rec.model_copy(update={"is_from_me": True})
        with self._tx():
            self.ingest_message(mine, live=True)
            self._conn.execute(
                "UPDATE messages SET status = 'sent' "
                "WHERE chat_jid = ? AND id = ? AND status IS NULL",
                (self.resolve_jid(mine.chat_jid), mine.id),
            )

    # ------------------------------------------------------------------ chats, contacts, groups

    def upsert_contacts(self, contacts: list[ContactRecord]) -> None:
        with self._tx():
            self._upsert_contacts(contacts)

    def _upsert_contacts(self, contacts: list[ContactRecord]) -> None:
        now = now_ms(self._clock)
        rows: list[tuple[object, ...]] = []
        for c in contacts:
            try:
                pn = jids.normalize_jid(c.jid)
            except InvalidArgument:
                log.warning("skipping contact with an invalid JID %r", c.jid)
                continue
            if c.lid:
                lid = jids.normalize_jid(c.lid)
                if jids.is_lid(lid) and jids.is_user(pn):
                    self._link_lid(lid, pn)
            jid = self.resolve_jid(pn)
            rows.append(
                (
                    jid,
                    jids.phone_of(jid),
                    _nonempty(c.saved_name),
                    _nonempty(c.push_name),
                    _nonempty(c.business_name),
                    now,
                )
            )
        self._conn.executemany(_UPSERT_CONTACT, rows)

    def upsert_chat(self, chat: ChatRecord) -> None:
        with self._tx():
            self._upsert_chat(chat)

    def _upsert_chat(self, chat: ChatRecord) -> None:
        jid = self.resolve_jid(chat.jid)
        self._conn.execute(
            """
            INSERT INTO chats (jid, name, is_group, topic, unread_count, last_message_at)
            VALUES (?, ?, ?, ?, coalesce(?, 0), ?)
            ON CONFLICT (jid) DO UPDATE SET
                name = coalesce(excluded.name, name),
                is_group = max(is_group, excluded.is_group),
                topic = coalesce(excluded.topic, topic),
                unread_count = coalesce(?, unread_count),
                last_message_at = max(coalesce(last_message_at, excluded.last_message_at),
                                      coalesce(excluded.last_message_at, last_message_at))
            """,
            (
                jid,
                _nonempty(chat.name),
                int(chat.is_group or jids.is_group(jid)),
                _nonempty(chat.topic),
                chat.unread_count,
                to_ms(chat.last_message_at) if chat.last_message_at else None,
                chat.unread_count,
            ),
        )
        if chat.ephemeral_expiration is not None:
            self._conn.execute(
                "UPDATE chats SET ephemeral_expiration = ? WHERE jid = ?",
                (chat.ephemeral_expiration or None, jid),
            )

    def upsert_group(self, group: GroupRecord) -> None:
        with self._tx():
            jid = self.resolve_jid(group.jid)
            self._upsert_chat(
                ChatRecord(jid=jid, name=group.name, is_group=True, topic=group.topic)
            )
            if group.owner:
                owner = self.resolve_jid(jids.normalize_jid(group.owner))
                self._conn.execute("UPDATE chats SET owner_jid = ? WHERE jid = ?", (owner, jid))
            if group.participants is None:
                return
            rows: dict[str, tuple[object, ...]] = {}
            for p in group.participants:
                pjid = jids.normalize_jid(p.jid)
                if p.lid:
                    lid = jids.normalize_jid(p.lid)
                    if jids.is_lid(lid) and jids.is_user(pjid):
                        self._link_lid(lid, pjid)
                pjid = self.resolve_jid(pjid)
                rows[pjid] = (
                    jid,
                    pjid,
                    int(p.is_admin or p.is_super_admin),
                    int(p.is_super_admin),
                    _nonempty(p.display_name),
                )
            self._conn.execute("DELETE FROM group_participants WHERE group_jid = ?", (jid,))
            self._conn.executemany(
                "INSERT INTO group_participants (group_jid, jid, is_admin, is_super_admin, "
                "display_name) VALUES (?, ?, ?, ?, ?)",
                list(rows.values()),
            )

    def mark_chat_read(self, chat_jid: str) -> None:
        with self._tx():
            self._conn.execute(
                "UPDATE chats SET unread_count = 0 WHERE jid = ?", (self.resolve_jid(chat_jid),)
            )

    def set_unread_count(self, chat_jid: str, count: int) -> None:
        """After marking part of a chat read: `count` newer messages stay unread."""
        with self._tx():
            self._conn.execute(
                "UPDATE chats SET unread_count = ? WHERE jid = ?",
                (max(0, count), self.resolve_jid(chat_jid)),
            )

    # ------------------------------------------------------------------ reactions, edits, deletes

    def apply_reaction(self, r: ReactionRecord) -> None:
        """Newest reaction per sender wins; "" is kept as a tombstone so late older adds lose."""
        with self._tx():
            self._conn.execute(
                """
                INSERT INTO reactions (chat_jid, message_id, sender, emoji, timestamp)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (chat_jid, message_id, sender) DO UPDATE SET
                    emoji = excluded.emoji, timestamp = excluded.timestamp
                WHERE excluded.timestamp >= reactions.timestamp
                """,
                (
                    self.resolve_jid(r.chat_jid),
                    r.message_id,
                    self.resolve_jid(r.sender),
                    r.emoji,
                    to_ms(r.timestamp),
                ),
            )

    def apply_edit(self, e: EditRecord) -> None:
        self._mutate(e.chat_jid, e.message_id, "edit", e.content, to_ms(e.timestamp))

    def apply_delete(self, d: DeleteRecord) -> None:
        self._mutate(d.chat_jid, d.message_id, "delete", None, to_ms(d.timestamp))

    def _mutate(self, chat: str, message_id: str, kind: str, content: str | None, ts: int) -> None:
        with self._tx():
            chat_jid = self.resolve_jid(chat)
            self._conn.execute(
                """
                INSERT INTO message_mutations (chat_jid, message_id, kind, content, timestamp)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (chat_jid, message_id, kind) DO UPDATE SET
                    content = excluded.content, timestamp = excluded.timestamp
                WHERE excluded.timestamp > message_mutations.timestamp
                """,
                (chat_jid, message_id, kind, content, ts),
            )
            self._conn.execute(
                _BLANK_DELETED_EDITS + " AND chat_jid = ? AND message_id = ?",
                (chat_jid, message_id),
            )
            self._apply_mutations_to(chat_jid, message_id)

    def apply_receipt(self, r: ReceiptRecord) -> None:
        """Raise the status of my own messages; a late "delivered" never undoes "read"."""
        if not r.message_ids:
            return
        if r.by_me:
            self._read_on_other_device(r)
            return
        with self._tx():
            chat_jid = self.resolve_jid(r.chat_jid)
            rank = _STATUS_RANK[r.kind]
            self._conn.executemany(
                f"UPDATE messages SET status = ? WHERE chat_jid = ? AND id = ? AND is_from_me = 1 "
                f"AND {_STATUS_RANK_SQL.format(col='status')} < ?",
                [(r.kind.value, chat_jid, mid, rank) for mid in r.message_ids],
            )

    def _read_on_other_device(self, r: ReceiptRecord) -> None:
        """READ_SELF: I read the chat up to these inbound messages elsewhere (issue 12), so only
        inbound messages after the newest of them stay unread; the count never grows here."""
        with self._tx():
            chat_jid = self.resolve_jid(r.chat_jid)
            marks = ",".join("?" * len(r.message_ids))
            row = self._conn.execute(
                f"SELECT max(timestamp), max(seq) FROM messages WHERE chat_jid = ? "
                f"AND id IN ({marks})",
                (chat_jid, *r.message_ids),
            ).fetchone()
            if row is None or row[0] is None:
                return  # not stored (yet): nothing to anchor on
            left = self._conn.execute(
                "SELECT count(*) FROM messages WHERE chat_jid = ? AND is_from_me = 0 "
                "AND kind <> 'unknown' AND (timestamp > ? OR (timestamp = ? AND seq > ?))",
                (chat_jid, row[0], row[0], row[1]),
            ).fetchone()[0]
            self._conn.execute(
                "UPDATE chats SET unread_count = min(unread_count, ?) WHERE jid = ?",
                (int(left), chat_jid),
            )

    def replace_media(self, chat: str, message_id: str, media: MediaInfo) -> bool:
        """Swap a stored message's attachment for a better copy (an HD dual upload)."""
        with self._tx():
            cur = self._conn.execute(
                "UPDATE messages SET mime_type = coalesce(?, mime_type), "
                "file_size = coalesce(?, file_size), media_json = ? WHERE chat_jid = ? AND id = ?",
                (
                    media.mime_type,
                    media.file_size,
                    media.model_dump_json(exclude_none=True),
                    self.resolve_jid(chat),
                    message_id,
                ),
            )
            return cur.rowcount > 0

    # ------------------------------------------------------------------ LID mapping

    def link_lid(self, lid: str, phone_jid: str) -> None:
        with self._tx():
            self._link_lid(jids.normalize_jid(lid), jids.normalize_jid(phone_jid))

    def _link_lid(self, lid: str, pn: str) -> None:
        """Record lid → pn and move everything stored under the lid onto the phone JID."""
        if not (jids.is_lid(lid) and jids.is_user(pn)):
            log.warning("ignoring LID mapping %s → %s: expected an @lid and a phone JID", lid, pn)
            return
        if self._lid_to_pn.get(lid) == pn:
            return
        c = self._conn
        c.execute("UPDATE contacts SET lid = NULL WHERE lid = ? AND jid <> ?", (lid, pn))
        c.execute(
            "INSERT INTO contacts (jid, phone, lid, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (jid) DO UPDATE SET lid = excluded.lid",
            (pn, jids.phone_of(pn), lid, now_ms(self._clock)),
        )
        # Names learnt while only the lid was known fill the gaps of the phone contact.
        c.execute(
            """
            UPDATE contacts SET
                saved_name = coalesce(contacts.saved_name, o.saved_name),
                push_name = coalesce(contacts.push_name, o.push_name),
                business_name = coalesce(contacts.business_name, o.business_name)
            FROM (SELECT * FROM contacts WHERE jid = ?) AS o
            WHERE contacts.jid = ?
            """,
            (lid, pn),
        )
        c.execute("DELETE FROM contacts WHERE jid = ?", (lid,))
        self._lid_to_pn[lid] = pn
        self._norm_cache.clear()
        self._merge_chat(lid, pn)
        c.execute("UPDATE messages SET sender = ? WHERE sender = ?", (pn, lid))
        self._merge_reactions(lid, pn)
        for table, col in (("group_participants", "jid"),):
            c.execute(
                f"DELETE FROM {table} WHERE {col} = ? AND group_jid IN "
                f"(SELECT group_jid FROM {table} WHERE {col} = ?)",
                (lid, pn),
            )
            c.execute(f"UPDATE {table} SET {col} = ? WHERE {col} = ?", (pn, lid))

    def _merge_chat(self, lid: str, pn: str) -> None:
        c = self._conn
        old = c.execute(
            "SELECT name, topic, unread_count, last_message_at FROM chats WHERE jid = ?", (lid,)
        ).fetchone()
        if old is None:
            # No message was stored under the lid, but edits/deletes addressed to it may be.
            self._merge_mutations(lid, pn)
            return
        self._ensure_chat(pn)
        c.execute(
            """
            UPDATE chats SET name = coalesce(name, ?), topic = coalesce(topic, ?),
                unread_count = unread_count + ?,
                last_message_at = max(coalesce(last_message_at, ?), coalesce(?, last_message_at))
            WHERE jid = ?
            """,
            (old[0], old[1], old[2], old[3], old[3], pn),
        )
        # The same message stored under both JIDs: keep one copy, a full one over a placeholder.
        c.execute(
            "DELETE FROM messages WHERE chat_jid = ? AND is_placeholder = 1 AND id IN "
            "(SELECT id FROM messages WHERE chat_jid = ? AND is_placeholder = 0)",
            (pn, lid),
        )
        c.execute(
            "DELETE FROM messages WHERE chat_jid = ? AND id IN "
            "(SELECT id FROM messages WHERE chat_jid = ?)",
            (lid, pn),
        )
        c.execute("UPDATE messages SET chat_jid = ? WHERE chat_jid = ?", (pn, lid))
        self._merge_mutations(lid, pn)
        c.execute("DELETE FROM chats WHERE jid = ?", (lid,))
        self._refresh_last([pn])

    def _merge_mutations(self, lid: str, pn: str) -> None:
        c = self._conn
        c.execute(
            """
            INSERT INTO message_mutations (chat_jid, message_id, kind, content, timestamp)
            SELECT ?, message_id, kind, content, timestamp FROM message_mutations WHERE chat_jid = ?
            ON CONFLICT (chat_jid, message_id, kind) DO UPDATE SET
                content = excluded.content, timestamp = excluded.timestamp
            WHERE excluded.timestamp > message_mutations.timestamp
            """,
            (pn, lid),
        )
        c.execute("DELETE FROM message_mutations WHERE chat_jid = ?", (lid,))
        # An edit or delete addressed to one alias while its message was stored under the other
        # meets the message only now.
        c.execute(_BLANK_DELETED_EDITS + " AND chat_jid = ?", (pn,))
        c.execute(_APPLY_EDITS_IN_CHAT, (pn,))
        self._forget_deleted_text(c.execute(_APPLY_DELETES_IN_CHAT, (pn,)))

    def _merge_reactions(self, lid: str, pn: str) -> None:
        c = self._conn
        c.execute(
            """
            INSERT INTO reactions (chat_jid, message_id, sender, emoji, timestamp)
            SELECT CASE chat_jid WHEN :lid THEN :pn ELSE chat_jid END, message_id,
                   CASE sender WHEN :lid THEN :pn ELSE sender END, emoji, timestamp
            FROM reactions WHERE chat_jid = :lid OR sender = :lid
            ON CONFLICT (chat_jid, message_id, sender) DO UPDATE SET
                emoji = excluded.emoji, timestamp = excluded.timestamp
            WHERE excluded.timestamp > reactions.timestamp
            """,
            {"lid": lid, "pn": pn},
        )
        c.execute("DELETE FROM reactions WHERE chat_jid = :lid OR sender = :lid", {"lid": lid})

    # ------------------------------------------------------------------ kv

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
