"""Reactions, edits, deletes and receipts, applied whichever arrives first."""

from __future__ import annotations

from store.models import (
    DeleteRecord,
    EditRecord,
    MediaInfo,
    ReactionRecord,
    ReceiptRecord,
    to_ms,
)
from store.write.base import (
    _APPLY_DELETES,
    _APPLY_EDITS,
    _BLANK_DELETED_EDITS,
    _STATUS_RANK,
    _STATUS_RANK_SQL,
)
from store.write.directory import DirectoryWrites


class MutationWrites(DirectoryWrites):
    def _apply_mutations_from(self, first_seq: int) -> None:
        self._conn.execute(_APPLY_EDITS, (first_seq,))
        self._forget_deleted_text(self._conn.execute(_APPLY_DELETES, (first_seq,)))

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

    def _has_mutations(self) -> bool:
        return self._conn.execute("SELECT 1 FROM message_mutations LIMIT 1").fetchone() is not None

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
