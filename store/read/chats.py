"""Counts, the chat list and one chat."""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from store import cursor as cursors
from store import jid as jids
from store.errors import InvalidArgument, NotFound
from store.models import (
    Chat,
    GroupParticipant,
    Page,
    StoreCounts,
    from_ms,
)
from store.read.assembly import MessageAssembly
from store.read.base import _BEST_NAME, _check_limit, _who_matches
from store.text import preview, strip_hidden


class ChatQueries(MessageAssembly):
    def counts(self) -> StoreCounts:
        r = self._one(
            "SELECT (SELECT count(*) FROM chats) AS chats, (SELECT count(*) FROM contacts) AS "
            "contacts, (SELECT count(*) FROM messages) AS messages"
        )
        assert r is not None
        return StoreCounts(chats=r["chats"], contacts=r["contacts"], messages=r["messages"])

    _CHAT_SELECT = f"""
        SELECT c.jid, c.name, c.is_group, c.topic, c.unread_count, c.last_message_at,
               {_BEST_NAME.format(p="ct.")} AS contact_name,
               m.kind AS m_kind, m.content AS m_content, m.caption AS m_caption,
               m.deleted AS m_deleted, m.is_placeholder AS m_placeholder
        FROM chats c
        LEFT JOIN contacts ct ON ct.jid = c.jid
        LEFT JOIN messages m ON m.seq = c.last_message_seq
    """

    def _chat(self, r: sqlite3.Row) -> Chat:
        name = r["name"] or (
            None if r["is_group"] else r["contact_name"] or jids.phone_of(r["jid"])
        )
        last = None
        if r["m_kind"] is not None:
            last = preview(
                r["m_kind"],
                r["m_content"],
                r["m_caption"],
                deleted=bool(r["m_deleted"]),
                placeholder=bool(r["m_placeholder"]),
            )
        return Chat(
            jid=r["jid"],
            name=strip_hidden(name)[0],
            is_group=bool(r["is_group"]),
            unread_count=r["unread_count"],
            last_message_at=from_ms(r["last_message_at"]) if r["last_message_at"] else None,
            last_message_preview=strip_hidden(last)[0],
            topic=strip_hidden(r["topic"])[0],
        )

    def list_chats(
        self,
        *,
        limit: int = 20,
        cursor: str | None = None,
        query: str | None = None,
        unread_only: bool = False,
        kind: Literal["direct", "group"] | None = None,
    ) -> Page[Chat]:
        """Chats by newest activity; chats with no activity yet come last, by JID."""
        _check_limit(limit)
        fp = cursors.fingerprint("chats", query, unread_only, kind)
        where: list[str] = []
        params: list[Any] = []
        if unread_only:
            where.append("c.unread_count > 0")
        if kind is not None:
            if kind not in ("direct", "group"):
                raise InvalidArgument('kind must be "direct", "group" or omitted.')
            where.append("c.is_group = ?")
            params.append(int(kind == "group"))
        if query and query.strip():
            cond, args = _who_matches(
                query, ["c.name", "ct.saved_name", "ct.push_name", "ct.business_name"], "c.jid"
            )
            where.append(cond)
            params += args

        at: int | None = None
        after_jid = ""
        if cursor is not None:
            at, after_jid = cursors.decode(cursor, "chats", fp, ((int, type(None)), str))
        rows: list[sqlite3.Row] = []
        # Phase 1: chats with activity, newest first. Skipped when the cursor is already past them.
        if cursor is None or at is not None:
            keyset: list[str] = ["c.last_message_at IS NOT NULL"]
            kparams: list[Any] = []
            if at is not None:
                keyset = ["c.last_message_at <= ?", "(c.last_message_at < ? OR c.jid > ?)"]
                kparams = [at, at, after_jid]
            rows = self._rows(
                f"{self._CHAT_SELECT} WHERE {' AND '.join(where + keyset)} "
                "ORDER BY c.last_message_at DESC, c.jid LIMIT ?",
                [*params, *kparams, limit + 1],
            )
        # Phase 2: chats never active (NULL sorts last), by JID.
        if len(rows) <= limit:
            start = after_jid if at is None else ""
            rows += self._rows(
                f"{self._CHAT_SELECT} WHERE "
                f"{' AND '.join(where + ['c.last_message_at IS NULL', 'c.jid > ?'])} "
                "ORDER BY c.jid LIMIT ?",
                [*params, start, limit + 1 - len(rows)],
            )
        items = [self._chat(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = cursors.encode("chats", fp, [last["last_message_at"], last["jid"]])
        return Page[Chat](items=items, next_cursor=next_cursor)

    def get_chat(self, jid: str) -> Chat:
        key = self._canonical(jid)
        r = self._one(f"{self._CHAT_SELECT} WHERE c.jid = ?", (key,))
        if r is None:
            raise NotFound(
                f"No chat with JID {key}; call list_chats or search_contacts to find the right one."
            )
        chat = self._chat(r)
        count = self._one("SELECT count(*) AS n FROM messages WHERE chat_jid = ?", (key,))
        chat.message_count = int(count["n"]) if count else 0
        if chat.is_group:
            parts = self._rows(
                f"""
                SELECT gp.jid, gp.is_admin, gp.is_super_admin, gp.display_name,
                       {_BEST_NAME.format(p="ct.")} AS contact_name
                FROM group_participants gp LEFT JOIN contacts ct ON ct.jid = gp.jid
                WHERE gp.group_jid = ?
                ORDER BY gp.is_super_admin DESC, gp.is_admin DESC, gp.jid
                """,
                (key,),
            )
            chat.participants = [
                GroupParticipant(
                    jid=p["jid"],
                    name=strip_hidden(p["contact_name"] or p["display_name"])[0],
                    phone=jids.phone_of(p["jid"]),
                    is_admin=bool(p["is_admin"]),
                    is_super_admin=bool(p["is_super_admin"]),
                )
                for p in parts
            ]
            me = self._account_jid()
            if me is not None and chat.participants:
                mine = next((p for p in chat.participants if p.jid == me), None)
                chat.my_role = (
                    "not_a_member"
                    if mine is None
                    else "super_admin"
                    if mine.is_super_admin
                    else "admin"
                    if mine.is_admin
                    else "member"
                )
        return chat
