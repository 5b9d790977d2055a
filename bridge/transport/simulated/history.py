"""The simulated phone's history push: the seeded messages cut into chunks, as WhatsApp sends them.

A real phone pushes history for minutes after pairing, newest chunks first, and says per chat
whether the chat's start was included (`endOfHistoryTransferType`). The simulation does the
same so coverage and sync progress can be seen in the demo and tested: direct chats arrive
complete, groups say older messages stay on the phone.
"""

from __future__ import annotations

from bridge.transport.protocol import HistoryEvent
from store.models import ChatRecord, HistoryBatch, MessageRecord

SYNC_TYPE = "INITIAL_BOOTSTRAP"


def seed_chunks(
    chats: list[ChatRecord],
    messages: list[MessageRecord],
    batch_size: int,
    *,
    newest_first: bool = False,
) -> list[HistoryBatch]:
    """`messages` (oldest first) in chunks; each chunk carries the records of the chats it
    touches, and the chunk holding a chat's oldest message says how its history ends."""
    by_jid = {c.jid: c for c in chats}
    oldest: dict[str, str] = {}
    for m in messages:
        oldest.setdefault(m.chat_jid, m.id)
    slices = [messages[i : i + batch_size] for i in range(0, len(messages), batch_size)]
    if newest_first:
        slices = [list(reversed(s)) for s in reversed(slices)]
    batches: list[HistoryBatch] = []
    for chunk in slices:
        records: list[ChatRecord] = []
        for jid in dict.fromkeys(m.chat_jid for m in chunk):
            chat = by_jid.get(jid) or ChatRecord(jid=jid)
            if any(m.id == oldest[jid] and m.chat_jid == jid for m in chunk):
                end = "more_on_phone" if chat.is_group else "complete"
                chat = chat.model_copy(update={"history_end": end})
            records.append(chat)
        batches.append(HistoryBatch(chats=records, messages=chunk))
    return batches


def seed_events(
    chats: list[ChatRecord],
    messages: list[MessageRecord],
    batch_size: int,
    *,
    total: int,
    newest_first: bool,
    final: bool,
) -> list[HistoryEvent]:
    """The seeded history as HistoryEvents: chunk order from 1, progress out of `total`
    messages (seeded plus synthetic), `final` on the last chunk when nothing follows."""
    events: list[HistoryEvent] = []
    done = 0
    for order, batch in enumerate(
        seed_chunks(chats, messages, batch_size, newest_first=newest_first), start=1
    ):
        done += len(batch.messages)
        events.append(
            HistoryEvent(
                batch=batch,
                progress=100 * done // max(1, total),
                sync_type=SYNC_TYPE,
                chunk_order=order,
            )
        )
    if events and final:
        events[-1] = events[-1].model_copy(update={"final": True})
    return events
