"""Linking an @lid identity to its phone-number JID, merging what was stored under the alias."""

from __future__ import annotations

from store import jid as jids
from store.clock import now_ms
from store.write.base import (
    _APPLY_DELETES_IN_CHAT,
    _APPLY_EDITS_IN_CHAT,
    _BLANK_DELETED_EDITS,
    WriterBase,
    log,
)


class LidLinks(WriterBase):
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
