"""Reading auto-reply rules and the ledger (servers read; the bridge writes)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime

from store.autoreply_models import AutoReplyRule, LedgerEntry, RuleMode, RuleStats
from store.models import from_ms

_RULE_COLS = (
    "chat, enabled, mode, instructions, static_text, mention_only, until, quiet_hours, "
    "created_at, updated_at, replies, last_reply_at, prompt_tokens, output_tokens, total_tokens, "
    "errors, last_error, last_error_at, skipped, last_skip_reason"
)


def _ms(value: object) -> datetime | None:
    return None if value is None else from_ms(int(str(value)))


def _rule(row: Sequence[object]) -> AutoReplyRule:
    (chat, enabled, mode, instructions, static_text, mention_only, until, quiet, created,
     updated, replies, last_reply, ptok, otok, ttok, errors, last_error, last_error_at,
     skipped, last_skip) = row  # fmt: skip
    return AutoReplyRule(
        chat=str(chat),
        enabled=bool(enabled),
        mode=RuleMode(str(mode)),
        instructions=None if instructions is None else str(instructions),
        static_text=None if static_text is None else str(static_text),
        mention_only=bool(mention_only),
        until=_ms(until),
        quiet_hours=None if quiet is None else str(quiet),
        created_at=from_ms(int(str(created))),
        updated_at=from_ms(int(str(updated))),
        stats=RuleStats(
            replies=int(str(replies)),
            last_reply_at=_ms(last_reply),
            prompt_tokens=int(str(ptok)),
            output_tokens=int(str(otok)),
            total_tokens=int(str(ttok)),
            errors=int(str(errors)),
            last_error=None if last_error is None else str(last_error),
            last_error_at=_ms(last_error_at),
            skipped=int(str(skipped)),
            last_skip_reason=None if last_skip is None else str(last_skip),
        ),
    )


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def read_ledger(conn: sqlite3.Connection, chat_jid: str | None = None) -> list[LedgerEntry]:
    """Ledger rows (with the reply each led to), oldest first."""
    where, params = ("WHERE l.chat_jid = ?", [chat_jid]) if chat_jid else ("", [])
    rows = conn.execute(
        "SELECT l.chat_jid, l.message_id, l.rule, l.state, r.reply_id, l.detail, l.at "
        "FROM autoreply_ledger l LEFT JOIN autoreply_replies r ON r.seq = l.reply_seq "
        f"{where} ORDER BY l.at, l.message_id",
        params,
    )
    return [
        LedgerEntry(
            chat_jid=str(r[0]),
            message_id=str(r[1]),
            rule=str(r[2]),
            state=r[3],
            reply_id=None if r[4] is None else str(r[4]),
            detail=None if r[5] is None else str(r[5]),
            at=from_ms(int(r[6])),
        )
        for r in rows.fetchall()
    ]


class AutoReplyReader:
    """Read-only view for MCP servers (thread-safe: tools run on worker threads)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def rules(self) -> list[AutoReplyRule]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_RULE_COLS} FROM autoreply_rules ORDER BY chat"
            ).fetchall()
        return [_rule(r) for r in rows]

    def ledger(self, chat_jid: str | None = None) -> list[LedgerEntry]:
        with self._lock:
            return read_ledger(self._conn, chat_jid)

    def rule(self, chat: str) -> AutoReplyRule | None:
        return next((r for r in self.rules() if r.chat == chat), None)

    def close(self) -> None:
        self._conn.close()
