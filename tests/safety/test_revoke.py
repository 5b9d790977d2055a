"""A message deleted for everyone leaves nothing readable behind (issue 13): not in the store
file (grep after a WAL checkpoint), not in search, not in any prompt, not in a reply's quote.
Real SQLite file, the real writer, reader, prompts and Sender over SimulatedTransport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.autoreply.prompt import build_request
from bridge.control.models import SendTextRequest
from bridge.ingest.events import apply_event
from bridge.transport.protocol import DeleteEvent, EditEvent, HistoryEvent, OutboundText
from bridge.transport.simulated.network import SimulatedTransport
from mcp_server.prompts import catch_up_text, draft_text, summarize_text
from store.db import open_reader, open_writer
from store.models import DeleteRecord, EditRecord, HistoryBatch, MessageRecord
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.safety.world import SAVED, SimClock, open_stack, seed_store

SECRET = "the vaultcode is zebrastripe9"
EDITED = "actually it is quokkafizz42"
LATE = "history copy says marmotlantern7"
T0 = datetime(2026, 1, 3, tzinfo=UTC)


def file_bytes(path: Path) -> bytes:
    conn = open_writer(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def leaked(data: bytes) -> list[str]:
    words = ["zebrastripe9", "vaultcode", "quokkafizz42", "marmotlantern7"]
    return [w for w in words if w.encode() in data]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "messages.db"
    seed_store(path)
    conn = open_writer(path)
    w = StoreWriter(conn)
    for i in range(200):  # enough FTS traffic for the secret to sit in an older segment
        w.ingest_message(
            MessageRecord(
                id=f"N{i}", chat_jid=SAVED, sender=SAVED, content=f"lunch at {i}", timestamp=T0
            )
        )
    w.ingest_message(
        MessageRecord(
            id="SECRET",
            chat_jid=SAVED,
            sender=SAVED,
            content=SECRET,
            timestamp=T0 + timedelta(minutes=1),
        )
    )
    w.ingest_message(
        MessageRecord(
            id="REPLY",
            chat_jid=SAVED,
            sender=SAVED,
            content="did you get it?",
            reply_to_id="SECRET",
            reply_to_sender=SAVED,
            timestamp=T0 + timedelta(minutes=2),
        )
    )
    for i in range(200, 300):
        w.ingest_message(
            MessageRecord(
                id=f"N{i}", chat_jid=SAVED, sender=SAVED, content=f"lunch at {i}", timestamp=T0
            )
        )
    conn.close()
    return path


def test_a_revoked_message_is_blank_everywhere_the_user_or_a_model_could_read_it(
    db: Path,
) -> None:
    assert leaked(file_bytes(db))  # the words are really there before the revoke
    conn = open_writer(db)
    w = StoreWriter(conn)
    later = T0 + timedelta(minutes=5)
    apply_event(
        w,
        EditEvent(
            edit=EditRecord(chat_jid=SAVED, message_id="SECRET", content=EDITED, timestamp=later)
        ),
    )
    apply_event(
        w, DeleteEvent(delete=DeleteRecord(chat_jid=SAVED, message_id="SECRET", timestamp=later))
    )
    # A revoke that arrives before its message (history sync order), then the message.
    apply_event(
        w, DeleteEvent(delete=DeleteRecord(chat_jid=SAVED, message_id="LATE", timestamp=later))
    )
    apply_event(
        w,
        HistoryEvent(
            batch=HistoryBatch(
                messages=[
                    MessageRecord(
                        id="LATE", chat_jid=SAVED, sender=SAVED, content=LATE, timestamp=T0
                    )
                ]
            ),
            progress=100,
        ),
    )
    conn.close()

    assert leaked(file_bytes(db)) == []
    rconn = open_reader(db)
    try:
        reader = StoreReader(rconn)
        gone = reader.get_message(SAVED, "SECRET")
        assert gone.deleted and gone.text is None and gone.caption is None
        assert reader.get_message(SAVED, "LATE").text is None
        for word in ("zebrastripe9", "vaultcode", "quokkafizz42", "marmotlantern7"):
            assert reader.search_messages(word).items == []
            assert reader.list_messages(query=word).items == []
        reply = reader.get_message(SAVED, "REPLY")
        assert reply.reply_to is not None and reply.reply_to.quote == "[deleted]"
        prompts = [
            summarize_text(reader, SAVED, None),
            draft_text(reader, SAVED),
            catch_up_text(reader, None),
            build_request(
                instructions=None,
                chat_name="Sam",
                is_group=False,
                history=reader.list_messages(chat_jid=SAVED, limit=50).items,
                budget=20_000,
            ).prompt,
        ]
        for prompt in prompts:
            assert not any(w in prompt for w in ("zebrastripe9", "vaultcode", "quokkafizz42"))
        assert "[deleted]" in prompts[0] and "[deleted]" in prompts[3]
    finally:
        rconn.close()


@pytest.mark.anyio
async def test_a_reply_to_a_revoked_message_quotes_no_text(
    db: Path, transport: SimulatedTransport
) -> None:
    conn = open_writer(db)
    StoreWriter(conn).apply_delete(
        DeleteRecord(chat_jid=SAVED, message_id="SECRET", timestamp=T0 + timedelta(hours=1))
    )
    conn.close()
    stack = open_stack(db, transport, SimClock())
    try:
        await stack.sender.send_text(SendTextRequest(to=SAVED, text="ok", reply_to="SECRET"))
    finally:
        stack.close()
    sent = transport.sent[-1]
    assert isinstance(sent, OutboundText) and sent.reply_to_id == "SECRET"
    assert sent.reply_to_text is None
