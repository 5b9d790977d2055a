"""Messages: live, history chunks (one transaction each), and our own sends."""

from __future__ import annotations

from store import jid as jids
from store.models import (
    ChatRecord,
    ContactRecord,
    HistoryBatch,
    MessageKind,
    MessageRecord,
    to_ms,
)
from store.write.base import (
    _FTS_TRIGGER,
    _INSERT_NEW_MESSAGES,
    _REAPPLY_DELETES,
    _REAPPLY_EDITS,
    _UPSERT_MESSAGE,
    BULK_FTS_MIN,
    _json_list,
    _nonempty,
)
from store.write.mutations import MutationWrites


class MessageIngest(MutationWrites):
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
