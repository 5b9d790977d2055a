# pyright: basic
"""Pure conversions from neonize protobufs to transport events and store records.

Nothing here talks to WhatsApp or keeps state: every function takes one neonize event (or a
piece of one) and returns our pydantic models. Malformed input never raises out of the public
`convert_*` functions: the problem is logged and the event (or the one bad message of a history
chunk) is skipped.

Timestamps come in mixed units: a live `MessageEv.Info.Timestamp` is **milliseconds**; history
sync `messageTimestamp`, receipts, send responses and group events are **seconds**.

WhatsApp addresses people either by phone number (`…@s.whatsapp.net`) or by an opaque LID
(`…@lid`). We key people by phone-number JID whenever the event carries the alternate
(`SenderAlt`/`RecipientAlt`, history `pnJID`/`lidJID`), and attach a `ContactRecord` that
remembers the LID so later LID-only references can be mapped.
"""

from __future__ import annotations

import logging

from bridge.transport.neonize.env import prepare_neonize_environment

prepare_neonize_environment()  # before neonize loads: bot tag off, logging, stdout pipes

from neonize.proto import Neonize_pb2 as N  # noqa: E402
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E  # noqa: E402

from bridge.transport.neonize.content import (  # noqa: E402
    _record,
    extract_content,
    hd_child,
)
from bridge.transport.neonize.convert_base import (  # noqa: E402
    STATUS_BROADCAST,
    Converted,
    _now,
    from_millis,
    from_seconds,
    jid_proto,
    jid_str,
    unwrap,
)
from bridge.transport.neonize.convert_events import (  # noqa: E402
    convert_connection,
    convert_contacts,
    convert_group_info,
    convert_joined_group,
    download_message,
    group_record,
    guess_media_kind,
)
from bridge.transport.neonize.convert_history import convert_history  # noqa: E402
from bridge.transport.protocol import (  # noqa: E402
    DeleteEvent,
    EditEvent,
    MediaUpdateEvent,
    MessageEvent,
    ReactionEvent,
    ReceiptEvent,
)
from store.jid import is_group, is_lid, is_user  # noqa: E402
from store.models import (  # noqa: E402
    ChatRecord,
    ContactRecord,
    DeleteRecord,
    EditRecord,
    ReactionRecord,
    ReceiptKind,
    ReceiptRecord,
)

logger = logging.getLogger(__name__)

# The one entry point the transport and tests use; the pieces live in the modules above.
__all__ = [
    "convert_connection",
    "convert_contacts",
    "convert_group_info",
    "convert_history",
    "convert_joined_group",
    "convert_message",
    "convert_receipt",
    "download_message",
    "extract_content",
    "from_millis",
    "from_seconds",
    "group_record",
    "guess_media_kind",
    "jid_proto",
    "jid_str",
    "unwrap",
]

# ---------------------------------------------------------------- live messages


def _resolve_people(
    src: N.MessageSource, push_name: str
) -> tuple[str | None, str | None, ContactRecord | None]:
    """(chat, sender, contact) with LIDs mapped to phone-number JIDs when the event says how."""
    chat = jid_proto(src.Chat) if src.HasField("Chat") else None
    sender = jid_proto(src.Sender) if src.HasField("Sender") else None
    sender_alt = jid_proto(src.SenderAlt) if src.HasField("SenderAlt") else None
    recipient_alt = jid_proto(src.RecipientAlt) if src.HasField("RecipientAlt") else None

    lid: str | None = None
    if sender and is_lid(sender) and sender_alt and is_user(sender_alt):
        lid, sender = sender, sender_alt
    elif sender and is_user(sender) and sender_alt and is_lid(sender_alt):
        lid = sender_alt

    if chat and is_lid(chat):
        if src.IsFromMe and recipient_alt and is_user(recipient_alt):
            chat = recipient_alt
        elif not src.IsFromMe and sender and is_user(sender) and lid == chat:
            chat = sender

    contact = None
    if sender and is_user(sender) and not src.IsFromMe and (push_name or lid):
        contact = ContactRecord(jid=sender, lid=lid, push_name=push_name or None)
    return chat, sender, contact


def convert_message(ev: N.Message) -> Converted | MediaUpdateEvent | None:
    """A live `MessageEv` as one of our events; None for things to skip (or garbage)."""
    try:
        return _convert_message(ev)
    except Exception:
        logger.exception("could not convert a WhatsApp message; skipping it")
        return None


def _convert_message(ev: N.Message) -> Converted | MediaUpdateEvent | None:
    info = ev.Info
    src = info.MessageSource
    msg_id = info.ID
    push_name = info.Pushname if info.Pushname != "-" else ""  # whatsmeow ignores "-" too
    chat, sender, contact = _resolve_people(src, push_name)
    # The sender as WhatsApp addressed it (its @lid in LID groups; no device part): replies,
    # reactions and read receipts must name it so (whatsmeow copies it into `participant`).
    wire = jid_proto(src.Sender) if src.HasField("Sender") else None
    if not chat or not msg_id:
        return None
    if chat == STATUS_BROADCAST or chat.endswith("@broadcast"):
        return None  # status updates and broadcast lists are not chats
    timestamp = from_millis(info.Timestamp) or _now()
    from_me = bool(src.IsFromMe)

    if ev.HasField("Message"):
        msg = unwrap(ev.Message)
    elif ev.HasField("Raw"):
        msg = unwrap(ev.Raw)
    else:
        return None

    if msg.HasField("protocolMessage"):
        pm = msg.protocolMessage
        target = pm.key.ID
        if not target:
            return None
        if pm.type == E.ProtocolMessage.REVOKE:
            return DeleteEvent(
                delete=DeleteRecord(chat_jid=chat, message_id=target, timestamp=timestamp)
            )
        if pm.type == E.ProtocolMessage.MESSAGE_EDIT and pm.HasField("editedMessage"):
            new = extract_content(unwrap(pm.editedMessage))
            if new is None:
                return None
            text = new.text if new.text is not None else new.caption
            edited_at = from_millis(pm.timestampMS) or timestamp
            return EditEvent(
                edit=EditRecord(
                    chat_jid=chat, message_id=target, content=text or "", timestamp=edited_at
                )
            )
        return None  # key shares, history notifications, ephemeral settings…

    if msg.HasField("reactionMessage"):
        rm = msg.reactionMessage
        if not rm.key.ID or not sender:
            return None
        reacted_at = from_millis(rm.senderTimestampMS) or timestamp
        return ReactionEvent(
            reaction=ReactionRecord(
                chat_jid=chat,
                message_id=rm.key.ID,
                sender=sender,
                emoji=rm.text,
                timestamp=reacted_at,
            )
        )

    hd = hd_child(msg)
    if hd is not None:
        parent, child = hd
        if not parent or child.media is None:
            return None
        return MediaUpdateEvent(chat_jid=chat, message_id=parent, media=child.media)

    content = extract_content(msg)
    if content is None:
        return None
    record = _record(
        msg_id=msg_id,
        chat=chat,
        sender=sender,
        sender_name=None if from_me else (push_name or None),
        from_me=from_me,
        timestamp=timestamp,
        content=content,
    )
    if wire and wire != sender and not from_me:
        record = record.model_copy(update={"sender_wire": wire})
    ctx = content.context
    expiration = ctx.expiration if ctx is not None and ctx.HasField("expiration") else None
    chat_record = ChatRecord(jid=chat, is_group=is_group(chat), ephemeral_expiration=expiration)
    return MessageEvent(message=record, contact=contact, chat=chat_record)


# ---------------------------------------------------------------- receipts, groups, contacts

_RECEIPT_KINDS = {
    N.Receipt.DELIVERED: ReceiptKind.delivered,
    N.Receipt.READ: ReceiptKind.read,
    N.Receipt.READ_SELF: ReceiptKind.read,
    N.Receipt.PLAYED: ReceiptKind.played,
    N.Receipt.PLAYED_SELF: ReceiptKind.played,
}


def convert_receipt(ev: N.Receipt) -> ReceiptEvent | None:
    """Delivered/read/played receipts; retries, server errors and the like are skipped."""
    try:
        if not ev.HasField("Type"):
            return None
        kind = _RECEIPT_KINDS.get(ev.Type)
        src = ev.MessageSource
        chat, sender, _ = _resolve_people(src, "")
        ids = [i for i in ev.MessageIDs if i]
        if kind is None or not chat or not ids:
            return None
        return ReceiptEvent(
            receipt=ReceiptRecord(
                chat_jid=chat,
                message_ids=ids,
                sender=sender,
                kind=kind,
                timestamp=from_seconds(ev.Timestamp) or _now(),
                by_me=ev.Type in (N.Receipt.READ_SELF, N.Receipt.PLAYED_SELF),
            )
        )
    except Exception:
        logger.exception("could not convert a receipt; skipping it")
        return None
