"""Auto-reply rules, the reply ledger and per-rule stats.

The bridge is the only writer (`AutoReplyStore`, on its own connection with `synchronous=FULL`,
so a claimed ledger row is on disk before the reply it guards is sent); MCP servers read the
rules and stats through a read-only connection (`AutoReplyReader`).

The ledger is claim-before-send, i.e. at-most-once: every inbound message id the engine decides
about gets one ledger row, written in the same transaction that checks the caps and the human
takeover. A crash between that commit and the send leaves the row `claimed` and the message
unanswered, never answered twice: a missed auto-reply is visible and harmless, a double one is
the embarrassment this feature must not produce.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Literal

from store.autoreply_models import (
    ALL_CONTACTS,
    AutoReplyRule,
    Claim,
    LedgerEntry,
    LedgerState,
    RuleMode,
    RuleStats,
    RuleUpdate,
    Skip,
)
from store.autoreply_read import _RULE_COLS, AutoReplyReader, _marks, _rule, read_ledger
from store.clock import SYSTEM_CLOCK, Clock, now_ms
from store.models import to_ms
from store.tx import transaction

__all__ = [
    "ALL_CONTACTS",
    "AutoReplyReader",
    "AutoReplyRule",
    "Claim",
    "LedgerEntry",
    "LedgerState",
    "RuleMode",
    "RuleStats",
    "RuleUpdate",
    "Skip",
    "read_ledger",
    "AutoReplyStore",
]


class AutoReplyStore:
    """The bridge's writer for auto-reply state. Call from one thread (the store-writer thread)."""

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._conn = conn
        self._clock = clock
        # The ledger guards against double replies: make its commits survive power loss too.
        conn.execute("PRAGMA synchronous = FULL")

    def close(self) -> None:
        self._conn.close()

    def _tx(self) -> AbstractContextManager[None]:
        return transaction(self._conn)

    # ------------------------------------------------------------------ rules

    def rules(self) -> list[AutoReplyRule]:
        rows = self._conn.execute(f"SELECT {_RULE_COLS} FROM autoreply_rules ORDER BY chat")
        return [_rule(r) for r in rows.fetchall()]

    def rule(self, chat: str) -> AutoReplyRule | None:
        row = self._conn.execute(
            f"SELECT {_RULE_COLS} FROM autoreply_rules WHERE chat = ?", (chat,)
        ).fetchone()
        return None if row is None else _rule(row)

    def put_rule(self, update: RuleUpdate) -> AutoReplyRule:
        now = now_ms(self._clock)
        with self._tx():
            self._conn.execute(
                """
                INSERT INTO autoreply_rules (chat, enabled, mode, instructions, static_text,
                    mention_only, until, quiet_hours, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (chat) DO UPDATE SET
                    enabled = excluded.enabled, mode = excluded.mode,
                    instructions = excluded.instructions, static_text = excluded.static_text,
                    mention_only = excluded.mention_only, until = excluded.until,
                    quiet_hours = excluded.quiet_hours, updated_at = excluded.updated_at
                """,
                (
                    update.chat,
                    int(update.enabled),
                    update.mode.value,
                    update.instructions,
                    update.static_text,
                    int(update.mention_only),
                    None if update.until is None else to_ms(update.until),
                    update.quiet_hours,
                    now,
                    now,
                ),
            )
        rule = self.rule(update.chat)
        assert rule is not None
        return rule

    def disable_all(self) -> int:
        """The kill switch: every rule off; returns how many were on."""
        with self._tx():
            cur = self._conn.execute(
                "UPDATE autoreply_rules SET enabled = 0, updated_at = ? WHERE enabled = 1",
                (now_ms(self._clock),),
            )
            return cur.rowcount

    # ------------------------------------------------------------------ ledger

    def abandon_claims(self) -> int:
        """At start: attempts a previous bridge claimed but never closed (it stopped or crashed
        in between) become failures. Their messages are not retried: the send may have
        happened."""
        at = now_ms(self._clock)
        detail = "interrupted: the bridge stopped during this reply (not retried)"
        with self._tx():
            seqs = [
                int(r[0])
                for r in self._conn.execute(
                    "SELECT seq FROM autoreply_replies WHERE state = 'claimed'"
                ).fetchall()
            ]
            for seq in seqs:
                self._conn.execute(
                    "UPDATE autoreply_replies SET state = 'failed', finished_at = ?, detail = ? "
                    "WHERE seq = ?",
                    (at, detail, seq),
                )
                self._conn.execute(
                    "UPDATE autoreply_ledger SET state = 'failed', detail = ?, at = ? "
                    "WHERE reply_seq = ?",
                    (detail, at, seq),
                )
            return len(seqs)

    def known(self, chat_jid: str, message_ids: Sequence[str]) -> set[str]:
        """Which of `message_ids` already have a ledger row (were decided before)."""
        if not message_ids:
            return set()
        rows = self._conn.execute(
            f"SELECT message_id FROM autoreply_ledger WHERE chat_jid = ? "
            f"AND message_id IN ({_marks(len(message_ids))})",
            [chat_jid, *message_ids],
        )
        return {str(r[0]) for r in rows}

    def claim(
        self,
        *,
        chat_jid: str,
        rule: str,
        message_ids: Sequence[str],
        chat_cap: int,
        global_cap: int,
        takeover_since: datetime,
        now: datetime | None = None,
    ) -> Claim | Skip | None:
        """Decide and record, in one transaction, whether these inbound messages get a reply.

        None: every id was decided before (a duplicate delivery). Skip: the new ids are
        recorded as skipped (caps reached, or I wrote in this chat by hand since
        `takeover_since`). Claim: the new ids are claimed for one reply attempt.
        """
        at = to_ms(now) if now is not None else now_ms(self._clock)
        with self._tx():
            fresh = [
                m for m in dict.fromkeys(message_ids) if m not in self.known(chat_jid, message_ids)
            ]
            if not fresh:
                return None
            reason = self._skip_reason(chat_jid, at, chat_cap, global_cap, to_ms(takeover_since))
            if reason is not None:
                self._ledger(chat_jid, fresh, rule, "skipped", None, reason, at)
                self._count_skip(rule, reason)
                return Skip(reason=reason, message_ids=fresh)
            cur = self._conn.execute(
                "INSERT INTO autoreply_replies (chat_jid, rule, state, claimed_at) "
                "VALUES (?, ?, 'claimed', ?)",
                (chat_jid, rule, at),
            )
            seq = int(cur.lastrowid or 0)
            self._ledger(chat_jid, fresh, rule, "claimed", seq, None, at)
            return Claim(reply_seq=seq, message_ids=fresh)

    def _skip_reason(
        self, chat_jid: str, at: int, chat_cap: int, global_cap: int, takeover_ms: int
    ) -> str | None:
        human = self._conn.execute(
            "SELECT 1 FROM messages WHERE chat_jid = ? AND timestamp >= ? AND is_from_me = 1 "
            "AND is_auto_reply = 0 LIMIT 1",
            (chat_jid, takeover_ms),
        ).fetchone()
        if human is not None:
            return "human_takeover"
        hour_ago = at - 3_600_000
        in_chat = self._conn.execute(
            "SELECT count(*) FROM autoreply_replies WHERE chat_jid = ? AND claimed_at > ? "
            "AND state IN ('claimed', 'sent')",
            (chat_jid, hour_ago),
        ).fetchone()[0]
        if int(in_chat) >= chat_cap:
            return "chat_hourly_cap"
        overall = self._conn.execute(
            "SELECT count(*) FROM autoreply_replies WHERE claimed_at > ? "
            "AND state IN ('claimed', 'sent')",
            (hour_ago,),
        ).fetchone()[0]
        if int(overall) >= global_cap:
            return "global_hourly_cap"
        return None

    def _ledger(
        self,
        chat_jid: str,
        ids: Sequence[str],
        rule: str,
        state: LedgerState,
        reply_seq: int | None,
        detail: str | None,
        at: int,
    ) -> None:
        self._conn.executemany(
            "INSERT INTO autoreply_ledger "
            "(chat_jid, message_id, rule, state, reply_seq, detail, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_jid, message_id) DO NOTHING",
            [(chat_jid, m, rule, state, reply_seq, detail, at) for m in ids],
        )

    def _count_skip(self, rule: str, reason: str) -> None:
        self._conn.execute(
            "UPDATE autoreply_rules SET skipped = skipped + 1, last_skip_reason = ? WHERE chat = ?",
            (reason, rule),
        )

    def skip(
        self, *, chat_jid: str, rule: str, message_ids: Sequence[str], reason: str
    ) -> list[str]:
        """Record messages decided without a reply attempt (quiet hours, loop, stale…)."""
        with self._tx():
            fresh = [
                m for m in dict.fromkeys(message_ids) if m not in self.known(chat_jid, message_ids)
            ]
            if fresh:
                self._ledger(chat_jid, fresh, rule, "skipped", None, reason, now_ms(self._clock))
                self._count_skip(rule, reason)
            return fresh

    def finish(
        self,
        reply_seq: int,
        *,
        state: Literal["sent", "failed", "skipped"],
        reply_id: str | None = None,
        detail: str | None = None,
        prompt_tokens: int | None = None,
        output_tokens: int | None = None,
        total_tokens: int | None = None,
    ) -> None:
        """Close a claimed attempt: its ledger rows and the rule's stats follow."""
        at = now_ms(self._clock)
        with self._tx():
            row = self._conn.execute(
                "SELECT rule FROM autoreply_replies WHERE seq = ?", (reply_seq,)
            ).fetchone()
            if row is None:
                return
            rule = str(row[0])
            self._conn.execute(
                "UPDATE autoreply_replies SET state = ?, finished_at = ?, reply_id = ?, "
                "detail = ?, prompt_tokens = ?, output_tokens = ?, total_tokens = ? WHERE seq = ?",
                (
                    state,
                    at,
                    reply_id,
                    detail,
                    prompt_tokens,
                    output_tokens,
                    total_tokens,
                    reply_seq,
                ),
            )
            self._conn.execute(
                "UPDATE autoreply_ledger SET state = ?, detail = ?, at = ? WHERE reply_seq = ?",
                (state, detail, at, reply_seq),
            )
            if state == "sent":
                self._conn.execute(
                    "UPDATE autoreply_rules SET replies = replies + 1, last_reply_at = ?, "
                    "prompt_tokens = prompt_tokens + ?, output_tokens = output_tokens + ?, "
                    "total_tokens = total_tokens + ? WHERE chat = ?",
                    (at, prompt_tokens or 0, output_tokens or 0, total_tokens or 0, rule),
                )
            elif state == "failed":
                self._conn.execute(
                    "UPDATE autoreply_rules SET errors = errors + 1, last_error = ?, "
                    "last_error_at = ? WHERE chat = ?",
                    (detail, at, rule),
                )
            else:
                self._count_skip(rule, detail or "skipped")

    def ledger(self, chat_jid: str | None = None) -> list[LedgerEntry]:
        return read_ledger(self._conn, chat_jid)
