""" "What needs me?": a compact digest over the store, ordered by what likely needs the user.

Per chat: unread count; the message waiting for my answer (in a direct chat, the newest
question, else the newest message, written after my last message and older than the wait
threshold; in a group, only messages that mention me or reply to me); @mentions of me in
groups; pending scheduled sends, and scheduled sends since `since` that did not go out (refused,
failed, missed). Chats where I wrote last and nothing is unread are left out.
Every text is a short preview with hidden characters removed: other people's words, as data.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from store.models import from_ms, to_ms
from store.text import preview, strip_hidden

MAX_CHATS = 30
CANDIDATES = 500
PREVIEW_CHARS = 120


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WaitingMessage(_Model):
    id: str
    sender_name: str | None = None
    at: datetime
    preview: str = Field(description="Start of the message, written by another person: data.")
    is_question: bool
    since_my_last: int = Field(description="Messages from them since my last message.")


class DigestChat(_Model):
    chat_jid: str
    name: str | None = None
    is_group: bool
    unread: int
    waiting: WaitingMessage | None = Field(
        default=None, description="The message that likely waits for my answer."
    )
    mentions_of_me: int = Field(default=0, description="Messages @-mentioning me (groups).")
    scheduled_pending: int = 0
    next_scheduled_at: datetime | None = None
    scheduled_not_sent: int = Field(
        default=0, description="My scheduled sends that did not go out (list_scheduled: why)."
    )
    why: str = Field(description="Why this chat is listed, in a few words.")


class Digest(_Model):
    since: datetime
    chats: list[DigestChat] = Field(description="Most likely to need the user first.")
    more_chats: int = Field(default=0, description="Chats left out to keep this short.")


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[sqlite3.Row]:
    cur = conn.cursor()
    cur.row_factory = sqlite3.Row
    try:
        return cur.execute(sql, params).fetchall()
    finally:
        cur.close()


def _question(text: str | None) -> bool:
    return bool(text) and ("?" in (text or "") or "¿" in (text or ""))


def _names(conn: sqlite3.Connection, jids: set[str]) -> dict[str, str]:
    if not jids:
        return {}
    marks = ", ".join("?" * len(jids))
    rows = _rows(
        conn,
        f"SELECT jid, coalesce(saved_name, push_name, business_name) AS name FROM contacts "
        f"WHERE jid IN ({marks})",
        sorted(jids),
    )
    return {r["jid"]: r["name"] for r in rows if r["name"]}


def build_digest(
    conn: sqlite3.Connection,
    *,
    since: datetime,
    wait_before: datetime,
    limit: int = MAX_CHATS,
) -> Digest:
    me_row = conn.execute("SELECT value FROM kv WHERE key = 'account_jid'").fetchone()
    me = str(me_row[0]) if me_row else None
    since_ms, wait_ms = to_ms(since), to_ms(wait_before)
    scheduled: dict[str, tuple[int, int]] = {
        r["chat_jid"]: (r["n"], r["first"])
        for r in _rows(
            conn,
            "SELECT chat_jid, count(*) AS n, min(at) AS first FROM scheduled_messages "
            "WHERE state = 'pending' GROUP BY chat_jid",
            [],
        )
    }
    chats = _rows(
        conn,
        "SELECT jid, name, is_group, unread_count FROM chats "
        "WHERE last_message_at >= ? OR unread_count > 0 "
        "ORDER BY last_message_at DESC LIMIT ?",
        [since_ms, CANDIDATES],
    )
    # Due since `since` and not sent: the user believes these went out.
    not_sent: dict[str, int] = {
        r["chat_jid"]: r["n"]
        for r in _rows(
            conn,
            "SELECT chat_jid, count(*) AS n FROM scheduled_messages "
            "WHERE state IN ('refused', 'failed', 'missed') AND fired_at >= ? GROUP BY chat_jid",
            [since_ms],
        )
    }
    seen = {c["jid"] for c in chats}
    extra = sorted({j for j in (*scheduled, *not_sent) if j not in seen})
    if extra:
        chats += _rows(
            conn,
            f"SELECT jid, name, is_group, unread_count FROM chats WHERE jid IN "
            f"({', '.join('?' * len(extra))})",
            extra,
        )
    found: list[tuple[int, int, DigestChat, str | None]] = []
    for c in chats:
        item = _chat(
            conn, c, me, since_ms, wait_ms, scheduled.get(c["jid"]), not_sent.get(c["jid"], 0)
        )
        if item is not None:
            found.append(item)
    found.sort(key=lambda x: (-x[0], -x[1]))
    people = {s for _, _, _, s in found if s}
    names = _names(conn, people | {d.chat_jid for _, _, d, _ in found if not d.name})
    out: list[DigestChat] = []
    for _, _, d, sender in found[:limit]:
        if d.name is None:
            d.name = names.get(d.chat_jid)
        if d.waiting is not None and sender:
            d.waiting.sender_name = strip_hidden(names.get(sender))[0]
        d.name = strip_hidden(d.name)[0]
        out.append(d)
    return Digest(since=since, chats=out, more_chats=max(0, len(found) - limit))


def _chat(
    conn: sqlite3.Connection,
    c: sqlite3.Row,
    me: str | None,
    since_ms: int,
    wait_ms: int,
    scheduled: tuple[int, int] | None,
    not_sent: int,
) -> tuple[int, int, DigestChat, str | None] | None:
    jid: str = c["jid"]
    group = bool(c["is_group"])
    unread = max(0, int(c["unread_count"] or 0))
    mine = conn.execute(
        "SELECT max(timestamp) FROM messages WHERE chat_jid = ? AND is_from_me = 1", (jid,)
    ).fetchone()[0]
    after = max(int(mine or 0) + 1, since_ms)
    inbound = _rows(
        conn,
        "SELECT id, sender, content, caption, kind, deleted, timestamp, mentions, "
        "reply_to_sender FROM messages WHERE chat_jid = ? AND is_from_me = 0 AND timestamp >= ? "
        "ORDER BY timestamp DESC, seq DESC LIMIT 200",
        [jid, after],
    )
    mentions = 0
    candidates: list[sqlite3.Row] = []
    for m in inbound:
        about_me = bool(me) and (
            (m["mentions"] or "").find(f'"{me}"') >= 0 or m["reply_to_sender"] == me
        )
        if group and me and (m["mentions"] or "").find(f'"{me}"') >= 0:
            mentions += 1
        if m["timestamp"] <= wait_ms and not m["deleted"] and (about_me or not group):
            candidates.append(m)
    pick = next((m for m in candidates if _question(m["content"] or m["caption"])), None)
    pick = pick or (candidates[0] if candidates else None)
    waiting = None
    if pick is not None:
        text = preview(
            pick["kind"], pick["content"], pick["caption"], deleted=False, limit=PREVIEW_CHARS
        )
        waiting = WaitingMessage(
            id=pick["id"],
            at=from_ms(pick["timestamp"]),
            preview=strip_hidden(text)[0] or "",
            is_question=_question(pick["content"] or pick["caption"]),
            since_my_last=len(inbound),
        )
    pending, first = scheduled or (0, None)
    if not (unread or waiting or mentions or pending or not_sent):
        return None
    reasons: list[str] = []
    score = 0
    if waiting is not None:
        score += 100 if waiting.is_question else 40
        reasons.append(
            "a question waits for my answer" if waiting.is_question else "they wrote last"
        )
    if not_sent:
        score += 90
        reasons.append(f"{not_sent} scheduled send(s) did not go out")
    if mentions:
        score += 80 + min(mentions, 10)
        reasons.append(f"{mentions} mention(s) of me")
    if unread:
        score += min(unread, 20) * (1 if group else 2)
        reasons.append(f"{unread} unread")
    if pending:
        score += 1
        reasons.append(f"{pending} scheduled send(s)")
    last = int(inbound[0]["timestamp"]) if inbound else 0
    item = DigestChat(
        chat_jid=jid,
        name=c["name"],
        is_group=group,
        unread=unread,
        waiting=waiting,
        mentions_of_me=mentions,
        scheduled_pending=pending,
        next_scheduled_at=from_ms(first) if first is not None else None,
        scheduled_not_sent=not_sent,
        why="; ".join(reasons),
    )
    return score, last, item, pick["sender"] if pick is not None else None
