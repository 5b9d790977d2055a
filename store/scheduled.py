"""Scheduled sends: what the user asked to send later, and what became of it.

The bridge is the only writer (`ScheduleStore`, on its own connection, called from the store
writer thread); MCP servers and the CLI read through `list_scheduled` on a read-only connection.

States move forward only:

    pending ──► sending ──► sent | refused | failed
       ├──────► missed      (the bridge was down past the grace period: not sent late)
       └──────► cancelled

`sending` is claimed in its own transaction before the send, so a crash in between leaves the
row `sending` (reported as failed on the next start), never a message sent twice.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from store.clock import now_ms
from store.errors import InvalidArgument, NotFound
from store.models import from_ms, to_ms

ScheduleState = Literal["pending", "sending", "sent", "refused", "failed", "missed", "cancelled"]
FINAL_STATES: frozenset[str] = frozenset({"sent", "refused", "failed", "missed", "cancelled"})

_COLS = "id, chat_jid, text, reply_to, at, zone, created_at, state, detail, message_id, fired_at"


class ScheduledMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(description="Pass to cancel_scheduled.")
    chat_jid: str
    text: str = Field(description="The text the user asked to send.")
    reply_to: str | None = None
    at: datetime = Field(description="When it is (or was) due, UTC.")
    zone: str = Field(description="The time zone the time was given in.")
    created_at: datetime
    state: ScheduleState
    detail: str | None = Field(
        default=None, description="Why it was refused, failed or missed, in words."
    )
    message_id: str | None = Field(default=None, description="The sent message's id.")
    fired_at: datetime | None = None


def _row(r: sqlite3.Row | tuple[object, ...]) -> ScheduledMessage:
    (id_, chat, text, reply_to, at, zone, created, state, detail, message_id, fired) = tuple(r)
    return ScheduledMessage(
        id=int(str(id_)),
        chat_jid=str(chat),
        text=str(text),
        reply_to=None if reply_to is None else str(reply_to),
        at=from_ms(int(str(at))),
        zone=str(zone),
        created_at=from_ms(int(str(created))),
        state=cast(ScheduleState, str(state)),  # the CHECK constraint keeps it in range
        detail=None if detail is None else str(detail),
        message_id=None if message_id is None else str(message_id),
        fired_at=None if fired is None else from_ms(int(str(fired))),
    )


def list_scheduled(
    conn: sqlite3.Connection,
    *,
    states: frozenset[str] | None = None,
    chat_jid: str | None = None,
    limit: int = 100,
) -> list[ScheduledMessage]:
    """Pending first (soonest first), then the others newest first."""
    where: list[str] = []
    params: list[object] = []
    if states:
        where.append(f"state IN ({', '.join('?' * len(states))})")
        params += sorted(states)
    if chat_jid:
        where.append("chat_jid = ?")
        params.append(chat_jid)
    rows = conn.execute(
        f"SELECT {_COLS} FROM scheduled_messages WHERE {' AND '.join(where) or '1'} "
        "ORDER BY state <> 'pending', CASE WHEN state = 'pending' THEN at ELSE -at END, id "
        "LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [_row(r) for r in rows]


def get_scheduled(conn: sqlite3.Connection, schedule_id: int) -> ScheduledMessage:
    row = conn.execute(f"SELECT {_COLS} FROM scheduled_messages WHERE id = ?", (schedule_id,))
    found = row.fetchone()
    if found is None:
        raise NotFound(
            f"No scheduled message with id={schedule_id}; call list_scheduled to see the ids."
        )
    return _row(found)


class ScheduleStore:
    """The bridge's writer for scheduled sends. Call from one thread at a time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # A claimed `sending` row must be on disk before the send it guards.
        conn.execute("PRAGMA synchronous = FULL")

    def close(self) -> None:
        self._conn.close()

    def add(
        self, chat_jid: str, text: str, reply_to: str | None, at: datetime, zone: str
    ) -> ScheduledMessage:
        cur = self._conn.execute(
            "INSERT INTO scheduled_messages (chat_jid, text, reply_to, at, zone, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (chat_jid, text, reply_to, to_ms(at), zone, now_ms()),
        )
        return get_scheduled(self._conn, int(cur.lastrowid or 0))

    def get(self, schedule_id: int) -> ScheduledMessage:
        return get_scheduled(self._conn, schedule_id)

    def cancel(self, schedule_id: int) -> ScheduledMessage:
        item = self.get(schedule_id)
        if item.state != "pending":
            raise InvalidArgument(
                f"Scheduled message id={schedule_id} is already {item.state}; only pending ones "
                "can be cancelled (list_scheduled shows each state)."
            )
        self._finish(schedule_id, "cancelled", None, None, from_pending=True)
        return self.get(schedule_id)

    def next_pending(self) -> ScheduledMessage | None:
        row = self._conn.execute(
            f"SELECT {_COLS} FROM scheduled_messages WHERE state = 'pending' "
            "ORDER BY at, id LIMIT 1"
        ).fetchone()
        return None if row is None else _row(row)

    def pending_count(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM scheduled_messages WHERE state = 'pending'")
        return int(row.fetchone()[0])

    def claim(self, schedule_id: int) -> bool:
        """pending → sending; False when someone (a cancel) got there first."""
        cur = self._conn.execute(
            "UPDATE scheduled_messages SET state = 'sending', fired_at = ? "
            "WHERE id = ? AND state = 'pending'",
            (now_ms(), schedule_id),
        )
        return cur.rowcount == 1

    def miss(self, schedule_id: int, detail: str) -> bool:
        return self._finish(schedule_id, "missed", detail, None, from_pending=True)

    def finish(
        self, schedule_id: int, state: ScheduleState, detail: str | None, message_id: str | None
    ) -> bool:
        """sending → sent / refused / failed."""
        return self._finish(schedule_id, state, detail, message_id, from_pending=False)

    def abandon_sending(self) -> int:
        """Rows left `sending` by a crash: the send may or may not have happened. Report them
        as failed (check the chat) rather than send again."""
        cur = self._conn.execute(
            "UPDATE scheduled_messages SET state = 'failed', detail = ? WHERE state = 'sending'",
            (
                "The bridge stopped while sending this; it may not have been sent. Look at the "
                "chat (list_messages) and schedule it again if it is missing.",
            ),
        )
        return cur.rowcount

    def _finish(
        self,
        schedule_id: int,
        state: str,
        detail: str | None,
        message_id: str | None,
        *,
        from_pending: bool,
    ) -> bool:
        cur = self._conn.execute(
            "UPDATE scheduled_messages SET state = ?, detail = ?, message_id = ?, "
            "fired_at = coalesce(fired_at, ?) WHERE id = ? AND state = ?",
            (
                state,
                detail,
                message_id,
                now_ms(),
                schedule_id,
                "pending" if from_pending else "sending",
            ),
        )
        return cur.rowcount == 1
