"""Rows to Message models: a whole page's names, reactions and quotes fetched at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from pydantic import ValidationError

from store import jid as jids
from store.models import (
    MediaInfo,
    Message,
    QuotedMessage,
    Reaction,
    from_ms,
)
from store.read.base import QUOTE_CHARS, ReaderBase, _chunks, _kind, _marks
from store.text import preview, strip_hidden


class MessageAssembly(ReaderBase):
    def _build_messages(self, rows: Sequence[sqlite3.Row]) -> list[Message]:
        if not rows:
            return []
        by_chat: dict[str, list[str]] = {}
        quoted_by_chat: dict[str, list[str]] = {}
        for r in rows:
            by_chat.setdefault(r["chat_jid"], []).append(r["id"])
            if r["reply_to_id"]:
                quoted_by_chat.setdefault(r["chat_jid"], []).append(r["reply_to_id"])

        reactions: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for chat_jid, ids in by_chat.items():
            for chunk in _chunks(ids):
                for x in self._rows(
                    "SELECT message_id, sender, emoji FROM reactions WHERE chat_jid = ? AND "
                    f"message_id IN ({_marks(len(chunk))}) AND emoji <> '' ORDER BY timestamp",
                    [chat_jid, *chunk],
                ):
                    reactions.setdefault((chat_jid, x["message_id"]), []).append(
                        (x["sender"], x["emoji"])
                    )

        quoted: dict[tuple[str, str], sqlite3.Row] = {}
        for chat_jid, ids in quoted_by_chat.items():
            for chunk in _chunks(sorted(set(ids))):
                for q in self._rows(
                    "SELECT id, sender, is_from_me, content, caption, kind, deleted FROM messages "
                    f"WHERE chat_jid = ? AND id IN ({_marks(len(chunk))})",
                    [chat_jid, *chunk],
                ):
                    quoted[(chat_jid, q["id"])] = q

        people: list[str | None] = [r["sender"] for r in rows]
        people += [r["reply_to_sender"] for r in rows]
        people += [s for rs in reactions.values() for s, _ in rs]
        people += [q["sender"] for q in quoted.values()]
        names = self._names(people)
        chat_names = self._chat_names(by_chat)
        me = self._account_jid() if reactions else None
        return [self._message(r, names, chat_names, reactions, quoted, me) for r in rows]

    def _message(
        self,
        r: sqlite3.Row,
        names: dict[str, str],
        chat_names: dict[str, str],
        reactions: dict[tuple[str, str], list[tuple[str, str]]],
        quoted: dict[tuple[str, str], sqlite3.Row],
        me: str | None = None,
    ) -> Message:
        chat_jid: str = r["chat_jid"]
        from_me = bool(r["is_from_me"])
        sender = None if from_me else r["sender"]
        text, hid_text = strip_hidden(r["content"])
        caption, hid_caption = strip_hidden(r["caption"])
        transcript, hid_transcript = strip_hidden(r["transcript"])
        sender_name, hid_name = strip_hidden(
            (names.get(sender) if sender else None) or (None if from_me else r["sender_name"])
        )
        media = None
        if r["media_json"]:
            try:
                media = MediaInfo.model_validate_json(r["media_json"])
            except ValidationError:
                media = None
        reply_to = None
        if r["reply_to_id"]:
            q = quoted.get((chat_jid, r["reply_to_id"]))
            q_sender = r["reply_to_sender"]
            quote = None
            if q is not None:
                q_sender = None if q["is_from_me"] else (q["sender"] or q_sender)
                quote = preview(
                    q["kind"],
                    q["content"],
                    q["caption"],
                    deleted=bool(q["deleted"]),
                    limit=QUOTE_CHARS,
                )
                quote = strip_hidden(quote)[0]
            reply_to = QuotedMessage(
                id=r["reply_to_id"],
                sender=q_sender,
                sender_name=names.get(q_sender) if q_sender else None,
                quote=quote,
            )
        return Message(
            id=r["id"],
            chat_jid=chat_jid,
            chat_name=chat_names.get(chat_jid),
            sender=sender,
            sender_name=sender_name,
            sender_phone=jids.phone_of(sender),
            timestamp=from_ms(r["timestamp"]),
            is_from_me=from_me,
            kind=_kind(r["kind"]),
            text=text,
            caption=caption,
            transcript=transcript,
            media=media,
            reply_to=reply_to,
            reactions=[
                Reaction(emoji=e, sender=s, sender_name=names.get(s), from_me=s == me)
                for s, e in reactions.get((chat_jid, r["id"]), [])
            ],
            edited=bool(r["edited"]),
            deleted=bool(r["deleted"]),
            is_auto_reply=bool(r["is_auto_reply"]),
            source=r["source"],
            hidden_characters_removed=hid_text or hid_caption or hid_name or hid_transcript,
        )
