"""History coverage: real neonize HistorySync protobufs → ingest → what readers say per chat."""

from __future__ import annotations

from bridge.ingest.events import apply_event
from bridge.transport.neonize import convert as conv
from bridge.transport.protocol import HistoryEvent
from store import coverage, sync_state
from store.models import ChatRecord, Coverage, HistoryBatch
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.neonize_factory import H, N
from tests.store.conftest import ALICE, BOB, at, msg

ALICE_JID = f"{f.ALICE}@s.whatsapp.net"
BOB_JID = f"{f.BOB}@s.whatsapp.net"


def _chunk(*convs: H.Conversation, order: int, progress: int) -> N.HistorySync:
    ev = N.HistorySync(
        Data=H.HistorySync(
            syncType=H.HistorySync.RECENT,
            conversations=list(convs),
            chunkOrder=order,
            progress=progress,
        )
    )
    return N.HistorySync.FromString(ev.SerializeToString())


def test_end_of_history_transfer_is_read_from_real_conversations() -> None:
    t = 1_700_000_000
    complete = H.Conversation(
        ID=ALICE_JID,
        endOfHistoryTransfer=True,
        endOfHistoryTransferType=H.Conversation.COMPLETE_AND_NO_MORE_MESSAGE_REMAIN_ON_PRIMARY,
        messages=[f.web_message("A1", f.text("hi"), t, remote=ALICE_JID)],
    )
    partial = H.Conversation(
        ID=BOB_JID,
        endOfHistoryTransfer=True,
        endOfHistoryTransferType=H.Conversation.COMPLETE_BUT_MORE_MESSAGES_REMAIN_ON_PRIMARY,
        messages=[f.web_message("B1", f.text("yo"), t, remote=BOB_JID)],
    )
    silent = H.Conversation(
        ID="15550000003@s.whatsapp.net",
        messages=[f.web_message("C1", f.text("hey"), t, remote="15550000003@s.whatsapp.net")],
    )
    out = conv.convert_history(_chunk(complete, partial, silent, order=3, progress=40))
    assert isinstance(out, HistoryEvent)
    assert (out.sync_type, out.chunk_order, out.progress) == ("RECENT", 3, 40)
    assert [c.history_end for c in out.batch.chats] == ["complete", "more_on_phone", None]


def test_ingest_records_coverage_and_complete_never_goes_back(
    writer: StoreWriter, reader: StoreReader
) -> None:
    first = HistoryEvent(
        batch=HistoryBatch(
            chats=[
                ChatRecord(jid=ALICE, history_end="complete"),
                ChatRecord(jid=BOB),
            ],
            messages=[msg("a2", ALICE, 5), msg("a1", ALICE, 1), msg("b1", BOB, 3)],
        ),
        sync_type="INITIAL_BOOTSTRAP",
        chunk_order=1,
        progress=30,
    )
    published = apply_event(writer, first)
    assert [e.type for e in published] == ["history"]

    def cov(jid: str, syncing: bool) -> Coverage:
        return reader.with_connection(lambda c: coverage.chat_coverage(c, jid, syncing=syncing))

    alice = cov(ALICE, syncing=True)
    assert alice.complete and alice.older == "none" and alice.history_since == at(1)
    bob = cov(BOB, syncing=True)
    assert not bob.complete and bob.older == "not_synced_yet" and bob.history_since == at(3)
    assert cov(BOB, syncing=False).older == "unknown"

    # A later chunk that says "more on the phone" about Alice cannot undo "complete"; a chunk
    # with nothing new still counts as progress and is published.
    again = HistoryEvent(
        batch=HistoryBatch(
            chats=[
                ChatRecord(jid=ALICE, history_end="more_on_phone"),
                ChatRecord(jid=BOB, history_end="more_on_phone"),
            ],
            messages=[msg("b1", BOB, 3)],
        ),
        sync_type="INITIAL_BOOTSTRAP",
        chunk_order=2,
        progress=60,
    )
    assert [e.type for e in apply_event(writer, again)] == ["history"]
    assert cov(ALICE, syncing=True).complete
    bob = cov(BOB, syncing=True)
    assert bob.older == "on_phone" and not bob.complete
    state = reader.with_connection(sync_state.read_sync_state)
    assert state is not None and state.types["INITIAL_BOOTSTRAP"].chunks == 2
    assert state.types["INITIAL_BOOTSTRAP"].last_chunk_order == 2
    assert state.progress == 60


def test_a_chat_without_messages_has_no_history_since(
    writer: StoreWriter, reader: StoreReader
) -> None:
    apply_event(writer, HistoryEvent(batch=HistoryBatch(chats=[ChatRecord(jid=BOB)])))
    got = reader.with_connection(lambda c: coverage.chat_coverage(c, BOB, syncing=False))
    assert got.history_since is None and got.older == "unknown"
