"""Transport events → store. Runs on the writer thread; the only code that writes messages.db
for inbound data."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bridge.control.models import BridgeEvent
from bridge.transport.protocol import (
    ContactsEvent,
    DeleteEvent,
    EditEvent,
    GroupEvent,
    HistoryEvent,
    MediaUpdateEvent,
    MessageEvent,
    ReactionEvent,
    ReceiptEvent,
    TransportEvent,
)
from store import coverage, sync_state
from store.models import HistoryEnd
from store.writer import StoreWriter

log = logging.getLogger(__name__)


def apply_event(writer: StoreWriter, event: TransportEvent) -> list[BridgeEvent]:
    """Write one event; returns what attached servers should hear about it."""
    if isinstance(event, MessageEvent):
        if event.contact is not None:
            writer.upsert_contacts([event.contact])
        new = writer.ingest_message(event.message, contact=event.contact, chat=event.chat)
        if not new:
            return []
        chat = writer.resolve_jid(event.message.chat_jid)
        return [BridgeEvent(type="message", chat_jid=chat, message_id=event.message.id)]
    if isinstance(event, HistoryEvent):
        added = writer.ingest_history(event.batch)
        now = datetime.now(UTC)
        known: list[tuple[str, HistoryEnd]] = [
            (writer.resolve_jid(c.jid), c.history_end)
            for c in event.batch.chats
            if c.history_end is not None
        ]
        if known:
            writer.in_transaction(lambda conn: coverage.record_history_end(conn, known, now))
        for edit in event.batch.edits:  # after the messages they change (order-independent)
            writer.apply_edit(edit)
        for reaction in event.batch.reactions:
            writer.apply_reaction(reaction)
        state = sync_state.record_chunk(
            sync_state.parse(writer.get_kv(sync_state.KV_KEY)),
            now=now,
            sync_type=event.sync_type,
            progress=event.progress,
            chunk_order=event.chunk_order,
            final=event.final,
        )
        writer.set_kv(sync_state.KV_KEY, state.model_dump_json())
        log.info("history batch: %d new of %d messages", added, len(event.batch.messages))
        # Every chunk, even one with nothing new: attached servers report sync progress from it.
        return [BridgeEvent(type="history")]
    if isinstance(event, ContactsEvent):
        writer.upsert_contacts(event.contacts)
        return []
    if isinstance(event, GroupEvent):
        writer.upsert_group(event.group)
        return [BridgeEvent(type="group", chat_jid=event.group.jid)]
    if isinstance(event, ReactionEvent):
        writer.apply_reaction(event.reaction)
        r = event.reaction
        return [BridgeEvent(type="reaction", chat_jid=r.chat_jid, message_id=r.message_id)]
    if isinstance(event, EditEvent):
        writer.apply_edit(event.edit)
        e = event.edit
        return [BridgeEvent(type="edit", chat_jid=e.chat_jid, message_id=e.message_id)]
    if isinstance(event, DeleteEvent):
        writer.apply_delete(event.delete)
        d = event.delete
        return [BridgeEvent(type="delete", chat_jid=d.chat_jid, message_id=d.message_id)]
    if isinstance(event, ReceiptEvent):
        writer.apply_receipt(event.receipt)
        return []
    if isinstance(event, MediaUpdateEvent):  # issue 12: HD copy of a stored photo or video
        if writer.replace_media(event.chat_jid, event.message_id, event.media):
            chat = writer.resolve_jid(event.chat_jid)
            return [BridgeEvent(type="edit", chat_jid=chat, message_id=event.message_id)]
        return []
    return []
