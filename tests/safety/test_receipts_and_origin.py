"""Read receipts obey the blocked list and a limit of their own, and the audit origin is the
door the bridge was called through (issue 13). Real store file, real Sender and gate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.control.client import ControlClient
from bridge.control.models import MarkReadRequest, MarkReadResponse, ReactRequest, ReactResponse
from bridge.paths import DataPaths
from bridge.send.gate import MAX_READ_RECEIPTS_PER_HOUR
from bridge.send.ratelimit import RateLimits
from bridge.send.sender import SendRefused
from bridge.transport.simulated.network import SimulatedTransport
from store.audit import read_send_log
from store.db import open_reader, open_writer
from store.models import MessageRecord
from store.writer import StoreWriter
from tests.helpers import eventually_async, seeded_contact
from tests.safety.world import BLOCKED, WROTE, SimClock, open_stack, seed_store

pytestmark = pytest.mark.anyio


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "messages.db"
    seed_store(path)
    conn = open_writer(path)
    StoreWriter(conn).ingest_message(
        MessageRecord(
            id="B1",
            chat_jid=BLOCKED,
            sender=BLOCKED,
            content="did you see this?",
            timestamp=datetime(2026, 1, 2, tzinfo=UTC),
        )
    )
    conn.close()
    return path


async def test_read_receipts_obey_the_blocked_list_and_their_own_hourly_limit(
    db: Path, transport: SimulatedTransport
) -> None:
    clock = SimClock()
    stack = open_stack(db, transport, clock, limits=RateLimits(min_interval=0))
    try:
        with pytest.raises(SendRefused) as info:
            await stack.sender.mark_read(MarkReadRequest(chat=BLOCKED))
        assert info.value.code == "recipient_blocked"
        assert transport.read_marks == []
        for _ in range(MAX_READ_RECEIPTS_PER_HOUR):
            await stack.sender.mark_read(MarkReadRequest(chat=WROTE))
        with pytest.raises(SendRefused) as info:
            await stack.sender.mark_read(MarkReadRequest(chat=WROTE))
        assert info.value.code == "rate_limited" and "last hour" in str(info.value)
        assert len(transport.read_marks) == MAX_READ_RECEIPTS_PER_HOUR
        clock.t += 3601  # the window moves on
        await stack.sender.mark_read(MarkReadRequest(chat=WROTE))
        # Text sends are not counted against the receipts' limit, nor the other way round.
        assert stack.log.sent_since(0) == []
    finally:
        stack.close()


async def test_the_audit_origin_is_the_door_used_not_what_the_caller_claims(
    running_bridge: DataPaths,
) -> None:
    paths = running_bridge
    contact = seeded_contact(paths)
    control = ControlClient(paths)

    def inbound_id() -> tuple[str] | None:
        conn = open_reader(paths.messages_db)
        try:
            return conn.execute(
                "SELECT id FROM messages WHERE chat_jid = ? AND is_from_me = 0 LIMIT 1",
                (contact,),
            ).fetchone()
        finally:
            conn.close()

    row = await eventually_async(inbound_id, timeout=30, interval=0.1, what="an inbound message")
    await control.call(
        "POST",
        "/api/react",
        ReactResponse,
        ReactRequest(chat=contact, message_id=row[0], emoji="👍", origin="auto_reply"),
    )
    await control.call(
        "POST", "/api/mark_read", MarkReadResponse, MarkReadRequest(chat=contact, origin="cli")
    )
    conn = open_reader(paths.messages_db)
    try:
        entries = read_send_log(conn, 10)
    finally:
        conn.close()
    assert [(e.kind, e.origin) for e in entries] == [("mark_read", "tool"), ("reaction", "tool")]
