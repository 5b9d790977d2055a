"""History sync state: how much of the phone's history push has arrived, per sync type.

After pairing, WhatsApp pushes history in chunks for minutes to hours (whatsmeow's HistorySync
carries a sync type, a chunk order and a percent progress). Read tools need this to tell the
model "nothing" from "not synced yet". The bridge is the only writer: ingest records each chunk
in the store's `kv` table under `KV_KEY`, as JSON of `SyncState`; every reader parses it
leniently (a damaged value reads as "unknown", never as an error).

One model serves every producer: the real neonize transport, the simulated network's chunked
sync, and imports.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

KV_KEY = "history_sync"
# The sync type of the empty chunk the simulated network sends once its seeded world is all
# sent (issue 14): a first read in simulate mode waits for it. Not a whatsmeow sync type.
SIMULATED_SEED = "SIMULATED_SEED"

# A sync whose last chunk is older than this is treated as over: the phone sends no "done"
# marker for every sync type, and a sync that silently stopped must not say "running" forever.
QUIET_AFTER = timedelta(minutes=10)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SyncTypeProgress(_Model):
    """One sync type's chunks (whatsmeow: INITIAL_BOOTSTRAP, RECENT, FULL, PUSH_NAME, ...)."""

    chunks: int = Field(default=0, ge=0, description="Chunks received of this type.")
    last_chunk_order: int | None = Field(default=None, description="Highest chunk order seen.")
    progress: int | None = Field(default=None, ge=0, le=100, description="Percent, if told.")
    updated_at: datetime


class SyncState(_Model):
    state: Literal["running", "done"]
    progress: int | None = Field(default=None, ge=0, le=100, description="Overall percent.")
    since: datetime = Field(description="When the first chunk of this sync arrived.")
    updated_at: datetime = Field(description="When the latest chunk arrived.")
    types: dict[str, SyncTypeProgress] = Field(default_factory=dict)

    def running(self, now: datetime) -> bool:
        """True while chunks are still expected."""
        return self.state == "running" and now - self.updated_at < QUIET_AFTER


def record_chunk(
    prev: SyncState | None,
    *,
    now: datetime,
    sync_type: str | None = None,
    progress: int | None = None,
    chunk_order: int | None = None,
    final: bool = False,
) -> SyncState:
    """The state after one more history chunk (pure: the caller stores the result)."""
    if prev is None or not prev.running(now):
        prev = SyncState(state="running", since=now, updated_at=now)
    types = dict(prev.types)
    key = sync_type or "unknown"
    old = types.get(key)
    orders = [o for o in (old.last_chunk_order if old else None, chunk_order) if o is not None]
    pct = None if progress is None else max(0, min(100, progress))
    types[key] = SyncTypeProgress(
        chunks=(old.chunks if old else 0) + 1,
        last_chunk_order=max(orders) if orders else None,
        progress=pct if pct is not None else (old.progress if old else None),
        updated_at=now,
    )
    overall = pct if pct is not None else prev.progress
    done = final or overall == 100
    return SyncState(
        state="done" if done else "running",
        progress=overall,
        since=prev.since,
        updated_at=now,
        types=types,
    )


def parse(raw: str | None) -> SyncState | None:
    if not raw:
        return None
    try:
        return SyncState.model_validate_json(raw)
    except ValidationError:
        return None


def read_sync_state(conn: sqlite3.Connection) -> SyncState | None:
    """The stored state, or None when no sync was ever recorded (or the value is damaged)."""
    try:
        row = conn.execute("SELECT value FROM kv WHERE key = ?", (KV_KEY,)).fetchone()
    except sqlite3.OperationalError:  # the store is still being created
        return None
    return parse(row[0] if row else None)
