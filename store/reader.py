"""Read-only queries over the message store (used by the MCP servers).

Every listing uses keyset pagination on an indexed sort key (never OFFSET), and every page is
assembled with a fixed number of queries: names, reactions and quoted messages are fetched for the
whole page at once.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from store import cursor as cursors
from store import fts
from store import jid as jids
from store.db import RECOVERY_ADVICE, corruption
from store.errors import Ambiguous, InvalidArgument, NotFound, StoreCorrupt, StoreError
from store.models import (
    Chat,
    Contact,
    GroupParticipant,
    MediaInfo,
    Message,
    MessageContext,
    MessageKind,
    Page,
    QuotedMessage,
    Reaction,
    SearchHit,
    StoreCounts,
    from_ms,
    to_ms,
)
from store.sync_state import SyncState, read_sync_state
from store.text import fold, preview, strip_hidden

MAX_LIMIT = 500
QUOTE_CHARS = 100
_CHUNK = 400  # bound parameters per IN (…) list, well under SQLite's limit
# Searches with more hits than this are ordered newest-stored first instead of by bm25: ranking
# costs ~2 µs per hit, so this bounds a first page to a few milliseconds (benchmarks/README.md).
RANK_CAP = 1000
# Recent-order cursors are told apart from bm25 ones (kind "search") by this prefix.
_RECENT_CURSOR_TAG = "r."

_BEST_NAME = "coalesce({p}saved_name, {p}push_name, {p}business_name)"
_MSG_COLS = (
    "m.seq, m.id, m.chat_jid, m.sender, m.sender_name, m.content, m.timestamp, m.is_from_me, "
    "m.kind, m.caption, m.media_json, m.reply_to_id, m.reply_to_sender, m.edited, m.deleted, "
    "m.is_auto_reply, m.is_placeholder, m.source, m.transcript"
)


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(f"limit must be between 1 and {MAX_LIMIT}; got {limit}.")
    return limit


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def _phone_prefix(text: str) -> str | None:
    """Digits of a number written with its `+` (like "+44" or "+44 20"): a country or area code
    that matches numbers by prefix, however short."""
    stripped = text.strip()
    if not stripped.startswith("+") or any(ch not in "0123456789 -()." for ch in stripped[1:]):
        return None
    return _digits(stripped) or None


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _kind(value: str) -> MessageKind:
    try:
        return MessageKind(value)
    except ValueError:
        return MessageKind.unknown


F = TypeVar("F", bound=Callable[..., Any])
T_cls = TypeVar("T_cls")
R = TypeVar("R")


def _damage_is_typed(fn: F) -> F:
    """A flipped byte can change a stored value's type without SQLite noticing (a number read
    back as text); the conversion to models then fails. Report that as damage, not a crash."""

    @functools.wraps(fn)
    def wrapper(self: StoreReader, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except StoreError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise StoreCorrupt(
                f"A stored row in {self._path()} holds a value of the wrong type ({exc}); the "
                f"file may be damaged. {RECOVERY_ADVICE}"
            ) from exc

    return wrapper  # type: ignore[return-value]


def _guard_public_methods(cls: type[T_cls]) -> type[T_cls]:
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and callable(value):
            setattr(cls, name, _damage_is_typed(value))
    return cls


@_guard_public_methods
class StoreReader:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # One sqlite3 connection is not safe for concurrent use; MCP tools run on worker threads.
        self._lock = threading.Lock()
        conn.create_function("wa_fold", 1, fold, deterministic=True)

    # ------------------------------------------------------------------ plumbing

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._conn.cursor()
            cur.row_factory = sqlite3.Row
            try:
                return cur.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                # Damaged pages surface on the query that reads them: report them typed.
                damage = corruption(exc, self._path())
                if damage is not None:
                    raise damage from exc
                raise
            finally:
                cur.close()

    def _path(self) -> str:
        try:
            return str(self._conn.execute("PRAGMA database_list").fetchone()[2])
        except sqlite3.Error:
            return "messages.db"

    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _canonical(self, text: str) -> str:
        """A JID or phone number as the JID the store keys it by (LIDs mapped when known)."""
        address = jids.parse_address(text)
        if address is None:
            raise InvalidArgument(
                f"{fts.shorten_for_error(text)!r} is neither a JID nor a phone number. Use a JID "
                "like 15551234567@s.whatsapp.net, a phone number like +15551234567, or call "
                "resolve_chat / search_contacts to turn a name into a JID."
            )
        if jids.is_lid(address):
            row = self._one("SELECT jid FROM contacts WHERE lid = ?", (address,))
            if row is not None:
                return str(row["jid"])
        return address

    def _names(self, jid_list: Iterable[str | None]) -> dict[str, str]:
        """Best contact name for each JID (also for LIDs whose mapping is known)."""
        wanted = sorted({j for j in jid_list if j})
        out: dict[str, str] = {}
        for chunk in _chunks(wanted):
            marks = _marks(len(chunk))
            for r in self._rows(
                f"SELECT jid, lid, {_BEST_NAME.format(p='')} AS name FROM contacts "
                f"WHERE jid IN ({marks}) OR lid IN ({marks})",
                [*chunk, *chunk],
            ):
                if r["name"]:
                    out[r["jid"]] = r["name"]
                    if r["lid"]:
                        out[r["lid"]] = r["name"]
        return out

    def _chat_names(self, chat_jids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(chat_jids))
        out: dict[str, str] = {}
        for chunk in _chunks(wanted):
            for r in self._rows(
                f"SELECT jid, name FROM chats WHERE jid IN ({_marks(len(chunk))})", chunk
            ):
                if r["name"]:
                    out[r["jid"]] = r["name"]
        missing = [j for j in wanted if j not in out]
        contact_names = self._names(missing)
        for j in missing:
            name = contact_names.get(j) or jids.phone_of(j)
            if name:
                out[j] = name
        return out

    # ------------------------------------------------------------------ message assembly

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

    # ------------------------------------------------------------------ counts and chats

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
            q = query.strip()
            like = _like(fold(q))
            conds = [
                "wa_fold(c.name) LIKE ? ESCAPE '\\'",
                "wa_fold(ct.saved_name) LIKE ? ESCAPE '\\'",
                "wa_fold(ct.push_name) LIKE ? ESCAPE '\\'",
                "wa_fold(ct.business_name) LIKE ? ESCAPE '\\'",
                "c.jid LIKE ? ESCAPE '\\'",
            ]
            params += [like] * 4 + [_like(q.lower())]
            digits = _digits(q)
            if len(digits) >= 3:
                conds.append("c.jid LIKE ?")
                params.append(f"%{digits}%@%")
            prefix = _phone_prefix(q)
            if prefix:
                conds.append("c.jid LIKE ?")
                params.append(f"{prefix}%@{jids.USER}")
            where.append("(" + " OR ".join(conds) + ")")

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

    def sync_state(self) -> SyncState | None:
        """The history sync as ingest last recorded it (None if never, or while being created)."""
        with self._lock:
            return read_sync_state(self._conn)

    def _account_jid(self) -> str | None:
        """The user's own JID, as the bridge recorded it on connecting."""
        row = self._one("SELECT value FROM kv WHERE key = 'account_jid'")
        return str(row["value"]) if row is not None else None

    # ------------------------------------------------------------------ messages

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

    def search_messages(
        self,
        query: str,
        *,
        chat_jid: str | None = None,
        sender: str | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page[SearchHit]:
        """Full-text search with `[`…`]` around the matched words.

        Most relevant first (bm25) when at most RANK_CAP messages match; beyond that, most recently
        stored first, with rank 0.0 (not ranked). bm25 has to score every hit before the first page
        can be known (~1 µs per hit plus a sort: 0.5 s for a word in half a million messages), and
        a word that common carries almost no relevance signal anyway. The order chosen on the
        first page is carried in the cursor, so later pages never mix the two.
        """
        _check_limit(limit)
        match = fts.build_match(query or "")
        where, params = self._message_filters(chat_jid, sender, after, before)
        fp = cursors.fingerprint("search", match, chat_jid, sender, after, before)
        filters = "".join(" AND " + w for w in where)
        base = f"""
            FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
            WHERE messages_fts MATCH ? {filters}"""
        recent = False
        if cursor is not None and cursor.startswith(_RECENT_CURSOR_TAG):
            (seq,) = cursors.decode(cursor[len(_RECENT_CURSOR_TAG) :], "search-recent", fp, (int,))
            recent = True
            base += " AND messages_fts.rowid < ?"
            params += [seq]
        elif cursor is not None:
            score, seq = cursors.decode(cursor, "search", fp, ((float, int), int))
            base += " AND (bm25(messages_fts), m.seq) > (?, ?)"
            params += [float(score), seq]
        else:
            # Counting stops at RANK_CAP + 1 hits, walked in rowid order without scoring.
            counted = base if where else " FROM messages_fts WHERE messages_fts MATCH ?"
            probe = self._one(
                f"SELECT count(*) AS n FROM (SELECT 1 {counted} LIMIT ?)",
                [match, *params, RANK_CAP + 1],
            )
            recent = probe is not None and probe["n"] > RANK_CAP
        # snippet() is left out here: SQLite would compute it for every hit fed to the sort. In
        # recent order bm25() is left out too: its IDF counts every hit of every phrase.
        if recent:
            score, order = "0.0", "messages_fts.rowid DESC"
        else:
            score, order = "bm25(messages_fts)", "score, m.seq"
        rows = self._rows(
            f"SELECT {_MSG_COLS}, {score} AS score {base} ORDER BY {order} LIMIT ?",
            [match, *params, limit + 1],
        )
        page = rows[:limit]
        snips = self._snippets(match, [r["seq"] for r in page])
        messages = self._build_messages(page)
        hits = [
            SearchHit(
                message=msg, snippet=strip_hidden(snips.get(r["seq"]))[0] or "", rank=r["score"]
            )
            for msg, r in zip(messages, page, strict=True)
        ]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            if recent:
                next_cursor = _RECENT_CURSOR_TAG + cursors.encode(
                    "search-recent", fp, [last["seq"]]
                )
            else:
                next_cursor = cursors.encode("search", fp, [last["score"], last["seq"]])
        return Page[SearchHit](items=hits, next_cursor=next_cursor)

    def _snippets(self, match: str, seqs: list[int]) -> dict[int, str]:
        """Snippets for one page of hits. FTS5 (3.40) does not seek on `rowid IN`, only on a
        rowid range: the range bounds the doclist walk, the IN list picks the page's rows."""
        if not seqs:
            return {}
        return {
            r["rowid"]: r["snip"]
            for r in self._rows(
                "SELECT rowid, snippet(messages_fts, -1, '[', ']', '…', 16) AS snip "
                "FROM messages_fts WHERE messages_fts MATCH ? AND rowid BETWEEN ? AND ? "
                f"AND rowid IN ({_marks(len(seqs))})",
                [match, min(seqs), max(seqs), *seqs],
            )
        }

    def _message_row(self, chat_jid: str, message_id: str) -> sqlite3.Row:
        key = self._canonical(chat_jid)
        r = self._one(
            f"SELECT {_MSG_COLS} FROM messages m WHERE m.chat_jid = ? AND m.id = ?",
            (key, message_id),
        )
        if r is None:
            raise NotFound(
                f"No message {message_id!r} in chat {key}; call list_messages or search_messages "
                "to find message ids."
            )
        return r

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

    # ------------------------------------------------------------------ contacts and names

    def search_contacts(
        self, query: str, *, limit: int = 20, cursor: str | None = None
    ) -> Page[Contact]:
        """Contacts whose name, phone number or JID contains `query`, by name. Empty lists all."""
        _check_limit(limit)
        q = (query or "").strip()
        fp = cursors.fingerprint("contacts", q)
        where: list[str] = []
        params: list[Any] = []
        if q:
            like = _like(fold(q))
            conds = [
                "wa_fold(saved_name) LIKE ? ESCAPE '\\'",
                "wa_fold(push_name) LIKE ? ESCAPE '\\'",
                "wa_fold(business_name) LIKE ? ESCAPE '\\'",
                "jid LIKE ? ESCAPE '\\'",
            ]
            params += [like] * 3 + [_like(q.lower())]
            digits = _digits(q)
            if len(digits) >= 3:
                conds.append("phone LIKE ?")
                params.append(f"%{digits}%")
            prefix = _phone_prefix(q)
            if prefix:
                conds.append("phone LIKE ?")
                params.append(f"+{prefix}%")
            where.append("(" + " OR ".join(conds) + ")")
        if cursor is not None:
            sort_key, after_jid = cursors.decode(cursor, "contacts", fp, (str, str))
            where.append("(sort_key, jid) > (?, ?)")
            params += [sort_key, after_jid]
        rows = self._rows(
            f"""
            SELECT * FROM (
                SELECT jid, phone, saved_name, push_name, business_name, lid,
                       wa_fold(coalesce({_BEST_NAME.format(p="")}, phone, jid)) AS sort_key
                FROM contacts)
            WHERE {" AND ".join(where) or "1"} ORDER BY sort_key, jid LIMIT ?
            """,
            [*params, limit + 1],
        )
        items = [
            Contact(
                jid=r["jid"],
                phone=r["phone"],
                name=strip_hidden(r["saved_name"] or r["push_name"] or r["business_name"])[0],
                saved_name=r["saved_name"],
                push_name=r["push_name"],
                business_name=r["business_name"],
                lid=r["lid"],
                is_saved=r["saved_name"] is not None,
            )
            for r in rows[:limit]
        ]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = cursors.encode("contacts", fp, [last["sort_key"], last["jid"]])
        return Page[Contact](items=items, next_cursor=next_cursor)

    def _display_name(self, jid: str) -> str | None:
        """The chat's or contact's name; None for a number nobody has named."""
        row = self._one("SELECT name FROM chats WHERE jid = ?", (jid,))
        if row is not None and row["name"]:
            return str(row["name"])
        return self._names([jid]).get(jid)

    def _name_matches(self, text: str, *, chats_only: bool) -> list[_NameMatch]:
        """Every contact, group or chat whose name contains `text`, one entry per JID."""
        folded = fold(text.strip())
        like = _like(folded)
        contact_filter = (
            "AND EXISTS (SELECT 1 FROM chats WHERE chats.jid = contacts.jid)" if chats_only else ""
        )
        rows = self._rows(
            f"""
            SELECT jid, {_BEST_NAME.format(p="")} AS display,
                   wa_fold(saved_name) AS a, wa_fold(push_name) AS b, wa_fold(business_name) AS c,
                   trim(coalesce(saved_name, '')) != '' AS saved, 0 AS is_group
            FROM contacts
            WHERE (wa_fold(saved_name) LIKE ?1 ESCAPE '\\' OR wa_fold(push_name) LIKE ?1 ESCAPE '\\'
                   OR wa_fold(business_name) LIKE ?1 ESCAPE '\\') {contact_filter}
            UNION ALL
            SELECT jid, name, wa_fold(name), NULL, NULL, 0, is_group FROM chats
            WHERE wa_fold(name) LIKE ?1 ESCAPE '\\'
            LIMIT 200
            """,
            (like,),
        )
        found: dict[str, _NameMatch] = {}
        for r in rows:
            jid = r["jid"]
            m = found.setdefault(jid, _NameMatch(jid=jid, name=r["display"] or jid))
            m.saved = m.saved or bool(r["saved"])
            m.is_group = m.is_group or bool(r["is_group"])
            m.exact = m.exact or folded in (r["a"], r["b"], r["c"])
        if found:
            # A chat row can match by a name the contact row does not carry: settle who is saved.
            marks = ", ".join("?" * len(found))
            for r in self._rows(
                f"SELECT jid, saved_name FROM contacts WHERE jid IN ({marks}) "
                "AND trim(coalesce(saved_name, '')) != ''",
                tuple(found),
            ):
                found[r["jid"]].saved = True
                found[r["jid"]].name = str(r["saved_name"])
        return list(found.values())

    def _resolve_name(self, text: str, *, chats_only: bool) -> tuple[str, str | None]:
        """A name → one JID. Saved contacts come first: a name anyone can choose (a push name,
        a group's name) never beats a contact the user saved, so a stranger who calls
        themselves "Tom Becker (Landlord)" cannot receive what was meant for the landlord."""
        if not text.strip():
            raise InvalidArgument(
                "Give a recipient: a contact or group name, a phone number like +15551234567, or "
                "a JID."
            )
        matches = self._name_matches(text, chats_only=chats_only)
        saved = [m for m in matches if m.saved]
        others = [m for m in matches if not m.saved]
        saved_exact = [m for m in saved if m.exact]
        tiers: list[list[_NameMatch]] = [saved_exact]
        if not saved_exact:
            other_exact = [m for m in others if m.exact]
            # A saved contact's partial match ties with an exact name someone else chose: ask.
            tiers.append(saved + other_exact if saved and other_exact else saved)
            if not saved:
                tiers += [other_exact, [m for m in others if not m.exact]]
        for tier in tiers:
            if len(tier) == 1:
                return tier[0].jid, tier[0].name
            if len(tier) > 1:
                candidates = [f"{m.name} ({m.jid})" for m in tier[:10]]
                who = "; ".join(m.who() for m in tier[:10])
                raise Ambiguous(
                    f"{text!r} matches several chats or contacts: {who}"
                    f"{' and more' if len(tier) > 10 else ''}. Use the JID of the one you mean; "
                    "a name that is not a saved contact was chosen by that person or group.",
                    candidates=candidates,
                )
        raise NotFound(
            f"No chat or contact matches {fts.shorten_for_error(text)!r}; call search_contacts "
            "or list_chats to find the right one."
        )

    def resolve_recipient(self, text: str) -> tuple[str, str | None]:
        """(JID, display name) for a JID, a phone number or a unique contact/group/chat name."""
        if jids.parse_address(text) is not None:
            key = self._canonical(text)
            return key, self._display_name(key)
        return self._resolve_name(text, chats_only=False)

    def resolve_recipient_exact(self, text: str) -> tuple[str, str | None]:
        """Like `resolve_recipient`, but a name must match a whole name (case and accents
        aside): a send never goes to someone whose name merely contains `text`."""
        if jids.parse_address(text) is not None:
            return self.resolve_recipient(text)
        matches = self._name_matches(text, chats_only=False)
        if matches and not any(m.exact for m in matches):
            shown = [f"{m.name} ({jids.phone_of(m.jid) or m.jid})" for m in matches[:5]]
            raise NotFound(
                f"No contact, group or chat is named exactly {fts.shorten_for_error(text)!r}; "
                f"did you mean {' or '.join(shown)}? Pass the full name or the number as `to`."
            )
        return self._resolve_name(text, chats_only=False)

    def resolve_chat(self, text: str) -> str:
        """The JID of an existing chat given its JID, phone number or unique name."""
        if jids.parse_address(text) is not None:
            key = self._canonical(text)
            if self._one("SELECT 1 FROM chats WHERE jid = ?", (key,)) is None:
                raise NotFound(
                    f"No chat with JID {key}; call list_chats or search_contacts to find the "
                    "right one."
                )
            return key
        return self._resolve_name(text, chats_only=True)[0]

    def with_connection(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run another store module's query (e.g. `store.coverage`) under this reader's lock."""
        with self._lock:
            return fn(self._conn)


@dataclass
class _NameMatch:
    """One JID a name matched, and what it is (for "who is who" in an ambiguity error)."""

    jid: str
    name: str
    saved: bool = False
    is_group: bool = False
    exact: bool = False

    def who(self) -> str:
        if self.is_group:
            role = "group"
        elif self.saved:
            role = "saved contact"
        elif jids.is_user(self.jid):
            role = "not a saved contact; a name they chose themselves"
        else:
            role = "chat"
        return f"{self.name} ({role}, {self.jid})"
