"""Contacts, chats, groups and unread counts."""

from __future__ import annotations

from store import jid as jids
from store.clock import now_ms
from store.errors import InvalidArgument
from store.models import (
    ChatRecord,
    ContactRecord,
    GroupRecord,
    to_ms,
)
from store.write.base import _UPSERT_CONTACT, _nonempty, log
from store.write.lid import LidLinks


class DirectoryWrites(LidLinks):
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
