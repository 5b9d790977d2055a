# pyright: basic
"""History-sync chunks as `HistoryEvent`s: conversations, names, LID mappings, edits, reactions.

History timestamps are seconds. Conversations (and their messages) come newest first; the
mappings, push names and messages of one account arrive in different chunks.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bridge.transport.neonize.env import prepare_neonize_environment

prepare_neonize_environment()  # before neonize loads

from neonize.proto import Neonize_pb2 as N  # noqa: E402
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E  # noqa: E402
from neonize.proto.waHistorySync import WAWebProtobufsHistorySync_pb2 as H  # noqa: E402

from bridge.transport.neonize.content import _record, extract_content  # noqa: E402
from bridge.transport.neonize.convert_base import (  # noqa: E402
    _now,
    _text_or_none,
    from_millis,
    from_seconds,
    jid_str,
    unwrap,
)
from bridge.transport.protocol import HistoryEvent  # noqa: E402
from store.jid import is_group, is_lid, is_user  # noqa: E402
from store.models import (  # noqa: E402
    ChatRecord,
    ContactRecord,
    EditRecord,
    HistoryBatch,
    HistoryEnd,
    MessageRecord,
    ReactionRecord,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- history sync


def convert_history(ev: N.HistorySync) -> HistoryEvent | None:
    """One history-sync chunk as a `HistoryEvent`; bad messages inside are skipped."""
    try:
        return _convert_history(ev)
    except Exception:
        logger.exception("could not convert a history-sync chunk; skipping it")
        return None


def _convert_history(ev: N.HistorySync) -> HistoryEvent | None:
    if not ev.HasField("Data"):
        return None
    hs = ev.Data
    received = _now()
    future = received + timedelta(days=1)
    lid_to_pn: dict[str, str] = {}
    contacts: dict[str, ContactRecord] = {}

    def remember(pn: str | None, lid: str | None, push_name: str | None = None) -> None:
        if not pn or not is_user(pn):
            return
        if lid and is_lid(lid):
            lid_to_pn[lid] = pn
        old = contacts.get(pn)
        contacts[pn] = ContactRecord(
            jid=pn,
            lid=(lid if lid and is_lid(lid) else None) or (old.lid if old else None),
            push_name=push_name or (old.push_name if old else None),
        )

    for mapping in getattr(hs, "phoneNumberToLidMappings", []):
        try:
            remember(jid_str(mapping.pnJID), jid_str(mapping.lidJID))
        except Exception:
            logger.debug("skipping a malformed LID mapping", exc_info=True)
    for conv in hs.conversations:
        remember(jid_str(conv.pnJID), jid_str(conv.lidJID) or (jid_str(conv.ID)))

    def map_lid(jid: str | None) -> str | None:
        return lid_to_pn.get(jid, jid) if jid else None

    lid_names: list[ContactRecord] = []
    for p in hs.pushnames:
        pid = map_lid(jid_str(p.ID))
        name = p.pushname if p.pushname and p.pushname != "-" else None  # whatsmeow's placeholder
        if pid and is_user(pid) and name:
            remember(pid, None, name)
        elif pid and is_lid(pid) and name:
            # The PUSH_NAME chunk rarely carries mappings: keep the name under the LID; the
            # store moves it onto the phone contact once the mapping arrives.
            lid_names.append(ContactRecord(jid=pid, push_name=name))

    chats: list[ChatRecord] = []
    messages: list[MessageRecord] = []
    edits: list[EditRecord] = []
    reactions: list[ReactionRecord] = []
    for conv in hs.conversations:
        chat = map_lid(jid_str(conv.ID))
        if not chat or chat.endswith("@broadcast"):
            continue  # status updates and broadcast lists are not chats (as in mautrix)
        try:
            chats.append(
                ChatRecord(
                    jid=chat,
                    name=_text_or_none(conv.name) or _text_or_none(conv.displayName),
                    is_group=is_group(chat),
                    unread_count=conv.unreadCount if conv.HasField("unreadCount") else None,
                    last_message_at=from_seconds(conv.conversationTimestamp)
                    or from_seconds(conv.lastMsgTimestamp),
                    ephemeral_expiration=conv.ephemeralExpiration
                    if conv.HasField("ephemeralExpiration")
                    else None,
                    history_end=_history_end(conv),
                )
            )
        except Exception:
            logger.exception("skipping a malformed history conversation")
            continue
        newer: datetime | None = None  # conversations list their messages newest first
        for hm in conv.messages:
            try:
                edits.extend(_history_edit(hm.message, chat))
                reactions.extend(_history_reactions(hm.message, chat, map_lid))
                record = _history_message(hm.message, chat, map_lid)
            except Exception:
                logger.exception("skipping a malformed history message in %s", chat)
                continue
            if record is None:
                continue
            if record.timestamp > future:
                # WhatsApp sends the odd timestamp decades ahead; like mautrix, clamp it to the
                # next newer message so it does not sit on top of the chat for ever.
                record = record.model_copy(update={"timestamp": newer or received})
            newer = record.timestamp
            messages.append(record)

    if not (chats or contacts or messages or lid_names):
        return None
    batch = HistoryBatch(
        chats=chats,
        contacts=[*contacts.values(), *lid_names],
        messages=messages,
        edits=edits,
        reactions=reactions,
    )
    progress = hs.progress if hs.HasField("progress") and 0 <= hs.progress <= 100 else None
    sync_type = _enum_label(H.HistorySync.HistorySyncType, hs.syncType, hs.HasField("syncType"))
    order = hs.chunkOrder if hs.HasField("chunkOrder") else None
    return HistoryEvent(batch=batch, progress=progress, sync_type=sync_type, chunk_order=order)


def _enum_label(enum_type, value: int, present: bool) -> str | None:
    try:
        return enum_type.Name(value) if present else None
    except ValueError:
        return str(value)


def _history_edit(w, chat: str) -> list[EditRecord]:
    """An edit kept in history (whatsmeow's ParseWebMessage re-keys it to the original)."""
    if not w.HasField("message"):
        return []
    msg = unwrap(w.message)
    if not msg.HasField("protocolMessage"):
        return []
    pm = msg.protocolMessage
    if pm.type != E.ProtocolMessage.MESSAGE_EDIT or not pm.key.ID:
        return []
    new = extract_content(unwrap(pm.editedMessage)) if pm.HasField("editedMessage") else None
    if new is None:
        return []
    at = from_millis(pm.timestampMS) or from_seconds(w.messageTimestamp) or _now()
    text = new.text if new.text is not None else new.caption
    return [EditRecord(chat_jid=chat, message_id=pm.key.ID, content=text or "", timestamp=at)]


def _history_reactions(w, chat: str, map_lid) -> list[ReactionRecord]:
    """`WebMessageInfo.reactions`: who reacted to this message with what."""
    out: list[ReactionRecord] = []
    for r in w.reactions:
        if r.key.fromMe:
            continue  # my own: the account JID is not known here (live ones are stored)
        who = map_lid(jid_str(r.key.participant)) if is_group(chat) else chat
        if not who or not w.key.ID:
            continue
        at = from_millis(r.senderTimestampMS) or from_seconds(w.messageTimestamp) or _now()
        out.append(
            ReactionRecord(
                chat_jid=chat, message_id=w.key.ID, sender=who, emoji=r.text, timestamp=at
            )
        )
    return out


def _history_message(w, chat: str, map_lid) -> MessageRecord | None:
    if w.messageStubType or not w.HasField("message") or not w.key.ID:
        return None
    from_me = bool(w.key.fromMe)
    wire = None
    if is_group(chat):
        wire = jid_str(w.participant) or jid_str(w.key.participant)
        sender = map_lid(wire)
    else:
        sender = chat
    msg = unwrap(w.message)
    if msg.HasField("protocolMessage") or msg.HasField("reactionMessage"):
        return None
    content = extract_content(msg)
    if content is None:
        return None
    timestamp = from_seconds(w.messageTimestamp)
    if timestamp is None:
        return None
    record = _record(
        msg_id=w.key.ID,
        chat=chat,
        sender=sender,
        sender_name=None if from_me else _text_or_none(w.pushName),
        from_me=from_me,
        timestamp=timestamp,
        content=content,
    )
    if wire and wire != sender and not from_me:
        record = record.model_copy(update={"sender_wire": wire})
    return record


# Conversation.EndOfHistoryTransferType: only 1 says the chat's start has been transferred.
_HISTORY_ENDS: dict[int, HistoryEnd] = {
    0: "more_on_phone",  # COMPLETE_BUT_MORE_MESSAGES_REMAIN_ON_PRIMARY
    1: "complete",  # COMPLETE_AND_NO_MORE_MESSAGE_REMAIN_ON_PRIMARY
    2: "more_on_phone",  # COMPLETE_ON_DEMAND_SYNC_BUT_MORE_MSG_REMAIN_ON_PRIMARY
    3: "no_access",  # COMPLETE_ON_DEMAND_SYNC_WITH_MORE_MSG_ON_PRIMARY_BUT_NO_ACCESS
}


def _history_end(conv) -> HistoryEnd | None:
    """What the phone said about this chat's history (issue 16); None while it has not said."""
    if not conv.endOfHistoryTransfer:
        return None
    return _HISTORY_ENDS.get(int(conv.endOfHistoryTransferType), "more_on_phone")
