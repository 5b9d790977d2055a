"""A chat's messages, one message, and a message in its context."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from store import cursor as cursors
from store.errors import InvalidArgument
from store.models import (
    Message,
    MessageContext,
    Page,
    to_ms,
)
from store.read.base import _MSG_COLS, MAX_LIMIT, _check_limit, _like
from store.read.chats import ChatQueries


class MessageQueries(ChatQueries):
    def list_messages(
        self,
        *,
        chat_jid: str | None = None,
        sender: str | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        order: Literal["newest", "oldest"] = "newest",
        limit: int = 50,
        cursor: str | None = None,
        query: str | None = None,
    ) -> Page[Message]:
        """Messages in time order; `after`/`before` are exclusive; `query` is a substring filter."""
        _check_limit(limit)
        if order not in ("newest", "oldest"):
            raise InvalidArgument('order must be "newest" or "oldest".')
        where, params = self._message_filters(chat_jid, sender, after, before)
        if query:
            where.append("(m.content LIKE ? ESCAPE '\\' OR m.caption LIKE ? ESCAPE '\\')")
            params += [_like(query), _like(query)]
        fp = cursors.fingerprint("messages", chat_jid, sender, after, before, order, query)
        desc = order == "newest"
        if cursor is not None:
            ts, seq = cursors.decode(cursor, "messages", fp, (int, int))
            where.append(f"(m.timestamp, m.seq) {'<' if desc else '>'} (?, ?)")
            params += [ts, seq]
        direction = "DESC" if desc else "ASC"
        rows = self._rows(
            f"SELECT {_MSG_COLS} FROM messages m WHERE {' AND '.join(where) or '1'} "
            f"ORDER BY m.timestamp {direction}, m.seq {direction} LIMIT ?",
            [*params, limit + 1],
        )
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = cursors.encode("messages", fp, [last["timestamp"], last["seq"]])
        return Page[Message](items=self._build_messages(rows[:limit]), next_cursor=next_cursor)

    def _message_filters(
        self,
        chat_jid: str | None,
        sender: str | None,
        after: datetime | None,
        before: datetime | None,
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if chat_jid:
            where.append("m.chat_jid = ?")
            params.append(self._canonical(chat_jid))
        if sender:
            where.append("m.sender = ?")
            params.append(self._canonical(sender))
        if after is not None:
            where.append("m.timestamp > ?")
            params.append(to_ms(after))
        if before is not None:
            where.append("m.timestamp < ?")
            params.append(to_ms(before))
        return where, params

    def get_message(self, chat_jid: str, message_id: str) -> Message:
        return self._build_messages([self._message_row(chat_jid, message_id)])[0]

    # issue 12: what the protocol needs when answering a message (not shown to the model).
    def wire_sender(self, chat_jid: str, message_id: str) -> str | None:
        """The sender as WhatsApp addressed it (its @lid in LID groups); else the phone JID."""
        rows = self._rows(
            "SELECT coalesce(sender_wire, sender) AS s FROM messages WHERE chat_jid = ? AND id = ?",
            [chat_jid, message_id],
        )
        return str(rows[0]["s"]) if rows and rows[0]["s"] else None

    def chat_expiration(self, chat_jid: str) -> int | None:
        """A disappearing-messages chat's timer in seconds; None when the chat keeps messages."""
        rows = self._rows("SELECT ephemeral_expiration AS e FROM chats WHERE jid = ?", [chat_jid])
        return int(rows[0]["e"]) if rows and rows[0]["e"] else None

    def get_message_context(
        self, chat_jid: str, message_id: str, *, before: int = 5, after: int = 5
    ) -> MessageContext:
        if not (0 <= before <= MAX_LIMIT and 0 <= after <= MAX_LIMIT):
            raise InvalidArgument(f"before and after must be between 0 and {MAX_LIMIT}.")
        t = self._message_row(chat_jid, message_id)
        key = (t["chat_jid"], t["timestamp"], t["seq"])
        older = self._rows(
            f"SELECT {_MSG_COLS} FROM messages m WHERE m.chat_jid = ? AND "
            "(m.timestamp, m.seq) < (?, ?) ORDER BY m.timestamp DESC, m.seq DESC LIMIT ?",
            [*key, before],
        )
        newer = self._rows(
            f"SELECT {_MSG_COLS} FROM messages m WHERE m.chat_jid = ? AND "
            "(m.timestamp, m.seq) > (?, ?) ORDER BY m.timestamp, m.seq LIMIT ?",
            [*key, after],
        )
        built = self._build_messages([*reversed(older), t, *newer])
        n = len(older)
        return MessageContext(target=built[n], before=built[:n], after=built[n + 1 :])
