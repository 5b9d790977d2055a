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

import base64
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from bridge.transport.neonize.env import prepare_neonize_environment

prepare_neonize_environment()  # before neonize loads: bot tag off, logging, stdout pipes

from neonize.proto import Neonize_pb2 as N  # noqa: E402
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E  # noqa: E402
from neonize.utils.jid import Jid2String  # noqa: E402

from bridge.transport.protocol import (  # noqa: E402
    ConnectionEvent,
    ConnectionState,
    ContactsEvent,
    DeleteEvent,
    EditEvent,
    GroupEvent,
    HistoryEvent,
    MessageEvent,
    ReactionEvent,
    ReceiptEvent,
)
from store.jid import is_group, is_lid, is_user, normalize_jid  # noqa: E402
from store.models import (  # noqa: E402
    ChatRecord,
    ContactRecord,
    DeleteRecord,
    EditRecord,
    GroupParticipantRecord,
    GroupRecord,
    HistoryBatch,
    MediaInfo,
    MessageKind,
    MessageRecord,
    ReactionRecord,
    ReceiptKind,
    ReceiptRecord,
)

logger = logging.getLogger(__name__)

STATUS_BROADCAST = "status@broadcast"

# Fields that ride along with real content (or alone, as key distribution) and carry no
# user-visible message.
_CARRIER_FIELDS = frozenset(
    {
        "messageContextInfo",
        "senderKeyDistributionMessage",
        "fastRatchetKeySenderKeyDistributionMessage",
    }
)

# The wrappers whatsmeow's `events.Message.UnwrapRaw` peels, in its order.
_WRAPPERS = (
    "deviceSentMessage",
    "botInvokeMessage",
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "lottieStickerMessage",
    "documentWithCaptionMessage",
    "editedMessage",
)

_POLL_FIELDS = (
    "pollCreationMessage",
    "pollCreationMessageV2",
    "pollCreationMessageV3",
    "pollCreationMessageV4",
    "pollCreationMessageV5",
    "pollCreationMessageV6",
)

# The Python-side time range we accept; anything else is garbage.
_MIN_TS = datetime(2009, 1, 1, tzinfo=timezone.utc)  # WhatsApp launched in 2009
_MAX_TS = datetime(2200, 1, 1, tzinfo=timezone.utc)

Converted = MessageEvent | ReactionEvent | EditEvent | DeleteEvent

# ---------------------------------------------------------------- small helpers


def from_seconds(value: int | float) -> datetime | None:
    """Epoch seconds → aware UTC datetime; None for 0 or out-of-range values."""
    try:
        if not value:
            return None
        ts = datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return ts if _MIN_TS <= ts <= _MAX_TS else None


def from_millis(value: int) -> datetime | None:
    """Epoch milliseconds → aware UTC datetime; None for 0 or out-of-range values."""
    return from_seconds(value / 1000) if value else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def jid_str(value: str | None) -> str | None:
    """A JID string normalised for the store (no device/agent); None if empty or invalid."""
    if not value:
        return None
    try:
        return normalize_jid(value)
    except Exception:  # InvalidArgument and anything odd in garbage input
        logger.debug("ignoring unparsable JID %r", value)
        return None


def jid_proto(jid: N.JID | None) -> str | None:
    """A neonize `JID` protobuf as a normalised JID string; None if empty or invalid."""
    if jid is None or not jid.User or not jid.Server:
        return None
    return jid_str(Jid2String(jid))


def _b64(data: bytes) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def _text_or_none(value: str) -> str | None:
    return value if value else None


def unwrap(msg: E.Message) -> E.Message:
    """Peel the wrappers WhatsApp puts around content, like whatsmeow's `UnwrapRaw`.

    Live `MessageEv.Message` is already unwrapped by whatsmeow; history-sync messages are not.
    """
    for name in _WRAPPERS:
        if msg.HasField(name):  # type: ignore[arg-type]
            inner = getattr(msg, name)
            if inner.HasField("message"):
                msg = inner.message
    return msg


# ---------------------------------------------------------------- message content


class _Content:
    __slots__ = ("kind", "text", "caption", "media", "context")

    def __init__(
        self,
        kind: MessageKind,
        text: str | None = None,
        caption: str | None = None,
        media: MediaInfo | None = None,
        context: E.ContextInfo | None = None,
    ) -> None:
        self.kind = kind
        self.text = text
        self.caption = caption
        self.media = media
        self.context = context


def _media_info(sub, *, filename: str | None = None) -> MediaInfo:
    def opt(name: str):
        return getattr(sub, name) if sub.HasField(name) else None

    return MediaInfo(
        mime_type=_text_or_none(sub.mimetype),
        filename=filename,
        file_size=opt("fileLength"),
        seconds=opt("seconds") if "seconds" in sub.DESCRIPTOR.fields_by_name else None,
        width=opt("width") if "width" in sub.DESCRIPTOR.fields_by_name else None,
        height=opt("height") if "height" in sub.DESCRIPTOR.fields_by_name else None,
        url=_text_or_none(sub.URL),
        direct_path=_text_or_none(sub.directPath),
        media_key=_b64(sub.mediaKey),
        file_sha256=_b64(sub.fileSHA256),
        file_enc_sha256=_b64(sub.fileEncSHA256),
    )


def _ctx(sub) -> E.ContextInfo | None:
    return sub.contextInfo if sub.HasField("contextInfo") else None


def _vcard_phones(vcard: str) -> list[str]:
    phones = []
    for line in vcard.splitlines():
        if line.upper().startswith(("TEL", "ITEM1.TEL", "ITEM2.TEL")) and ":" in line:
            phones.append(line.split(":", 1)[1].strip())
    return phones


def _contact_card(card: E.ContactMessage) -> str:
    name = card.displayName or "(no name)"
    phones = _vcard_phones(card.vcard)
    return f"{name} ({', '.join(phones)})" if phones else name


def extract_content(msg: E.Message) -> _Content | None:
    """What a (unwrapped) waE2E message shows to a person; None when it shows nothing."""
    if msg.HasField("conversation") or msg.conversation:
        return _Content(MessageKind.text, text=msg.conversation)
    if msg.HasField("extendedTextMessage"):
        sub = msg.extendedTextMessage
        return _Content(MessageKind.text, text=sub.text, context=_ctx(sub))
    if msg.HasField("imageMessage"):
        sub = msg.imageMessage
        return _Content(
            MessageKind.image,
            caption=_text_or_none(sub.caption),
            media=_media_info(sub),
            context=_ctx(sub),
        )
    for name in ("videoMessage", "ptvMessage"):
        if msg.HasField(name):
            sub = getattr(msg, name)
            return _Content(
                MessageKind.video,
                caption=_text_or_none(sub.caption),
                media=_media_info(sub),
                context=_ctx(sub),
            )
    if msg.HasField("audioMessage"):
        sub = msg.audioMessage
        kind = MessageKind.voice if sub.PTT else MessageKind.audio
        return _Content(kind, media=_media_info(sub), context=_ctx(sub))
    if msg.HasField("documentMessage"):
        sub = msg.documentMessage
        return _Content(
            MessageKind.document,
            caption=_text_or_none(sub.caption),
            media=_media_info(sub, filename=_text_or_none(sub.fileName or sub.title)),
            context=_ctx(sub),
        )
    if msg.HasField("stickerMessage"):
        sub = msg.stickerMessage
        return _Content(MessageKind.sticker, media=_media_info(sub), context=_ctx(sub))
    for name in ("locationMessage", "liveLocationMessage"):
        if msg.HasField(name):
            sub = getattr(msg, name)
            label = "Live location" if name == "liveLocationMessage" else "Location"
            parts = [p for p in (getattr(sub, "name", ""), getattr(sub, "address", "")) if p]
            where = f"{sub.degreesLatitude:.6f}, {sub.degreesLongitude:.6f}"
            text = f"{label}: {' — '.join(parts)} ({where})" if parts else f"{label}: {where}"
            url = getattr(sub, "URL", "")
            if url:
                text += f" {url}"
            caption = getattr(sub, "caption", "") or getattr(sub, "comment", "")
            return _Content(
                MessageKind.location,
                text=text,
                caption=_text_or_none(caption),
                context=_ctx(sub),
            )
    if msg.HasField("contactMessage"):
        sub = msg.contactMessage
        return _Content(
            MessageKind.contact, text=f"Contact card: {_contact_card(sub)}", context=_ctx(sub)
        )
    if msg.HasField("contactsArrayMessage"):
        sub = msg.contactsArrayMessage
        cards = "; ".join(_contact_card(c) for c in sub.contacts) or sub.displayName
        return _Content(MessageKind.contact, text=f"Contact cards: {cards}", context=_ctx(sub))
    for name in _POLL_FIELDS:
        if name in msg.DESCRIPTOR.fields_by_name and msg.HasField(name):
            sub = getattr(msg, name)
            options = "\n".join(f"- {o.optionName}" for o in sub.options)
            text = f"Poll: {sub.name}" + (f"\n{options}" if options else "")
            return _Content(MessageKind.poll, text=text, context=_ctx(sub))
    present = [f.name for f, _ in msg.ListFields() if f.name not in _CARRIER_FIELDS]
    if not present:
        return None
    logger.debug("unsupported message content %s", present)
    return _Content(MessageKind.unknown, text=f"[unsupported message: {present[0]}]")


def _mentions(context: E.ContextInfo | None) -> list[str]:
    if context is None:
        return []
    out: list[str] = []
    for raw in context.mentionedJID:
        jid = jid_str(raw)
        if jid and jid not in out:
            out.append(jid)
    return out


def _record(
    *,
    msg_id: str,
    chat: str,
    sender: str | None,
    sender_name: str | None,
    from_me: bool,
    timestamp: datetime,
    content: _Content,
) -> MessageRecord:
    ctx = content.context
    reply_to_id = _text_or_none(ctx.stanzaID) if ctx is not None else None
    reply_to_sender = jid_str(ctx.participant) if ctx is not None and reply_to_id else None
    return MessageRecord(
        id=msg_id,
        chat_jid=chat,
        sender=None if from_me else sender,
        sender_name=sender_name,
        timestamp=timestamp,
        content=content.text,
        is_from_me=from_me,
        kind=content.kind,
        caption=content.caption,
        media=content.media,
        reply_to_id=reply_to_id,
        reply_to_sender=reply_to_sender,
        mentions=_mentions(ctx),
    )


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


def convert_message(ev: N.Message) -> Converted | None:
    """A live `MessageEv` as one of our events; None for things to skip (or garbage)."""
    try:
        return _convert_message(ev)
    except Exception:
        logger.exception("could not convert a WhatsApp message; skipping it")
        return None


def _convert_message(ev: N.Message) -> Converted | None:
    info = ev.Info
    src = info.MessageSource
    msg_id = info.ID
    push_name = info.Pushname
    chat, sender, contact = _resolve_people(src, push_name)
    if not chat or not msg_id:
        return None
    if chat == STATUS_BROADCAST:
        return None  # status updates are not chats
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
    chat_record = ChatRecord(jid=chat, is_group=is_group(chat))
    return MessageEvent(message=record, contact=contact, chat=chat_record)


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

    for p in hs.pushnames:
        pid = map_lid(jid_str(p.ID))
        if pid and is_user(pid) and p.pushname:
            remember(pid, None, p.pushname)

    chats: list[ChatRecord] = []
    messages: list[MessageRecord] = []
    for conv in hs.conversations:
        chat = map_lid(jid_str(conv.ID))
        if not chat or chat == STATUS_BROADCAST:
            continue
        try:
            chats.append(
                ChatRecord(
                    jid=chat,
                    name=_text_or_none(conv.name) or _text_or_none(conv.displayName),
                    is_group=is_group(chat),
                    unread_count=conv.unreadCount if conv.HasField("unreadCount") else None,
                    last_message_at=from_seconds(conv.conversationTimestamp)
                    or from_seconds(conv.lastMsgTimestamp),
                )
            )
        except Exception:
            logger.exception("skipping a malformed history conversation")
            continue
        for hm in conv.messages:
            try:
                record = _history_message(hm.message, chat, map_lid)
            except Exception:
                logger.exception("skipping a malformed history message in %s", chat)
                continue
            if record is not None:
                messages.append(record)

    if not (chats or contacts or messages):
        return None
    batch = HistoryBatch(chats=chats, contacts=list(contacts.values()), messages=messages)
    progress = hs.progress if hs.HasField("progress") and 0 <= hs.progress <= 100 else None
    return HistoryEvent(batch=batch, progress=progress)


def _history_message(w, chat: str, map_lid) -> MessageRecord | None:
    if w.messageStubType or not w.HasField("message") or not w.key.ID:
        return None
    from_me = bool(w.key.fromMe)
    if is_group(chat):
        sender = map_lid(jid_str(w.participant) or jid_str(w.key.participant))
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
    return _record(
        msg_id=w.key.ID,
        chat=chat,
        sender=sender,
        sender_name=None if from_me else _text_or_none(w.pushName),
        from_me=from_me,
        timestamp=timestamp,
        content=content,
    )


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
            )
        )
    except Exception:
        logger.exception("could not convert a receipt; skipping it")
        return None


def group_record(info: N.GroupInfo) -> GroupRecord | None:
    """A full `GroupInfo` (joined group, get_joined_groups) as a `GroupRecord`."""
    jid = jid_proto(info.JID)
    if not jid or not is_group(jid):
        return None
    participants: list[GroupParticipantRecord] = []
    for p in info.Participants:
        main = jid_proto(p.JID) if p.HasField("JID") else None
        phone = jid_proto(p.PhoneNumber) if p.HasField("PhoneNumber") else None
        lid = jid_proto(p.LID) if p.HasField("LID") else None
        person = phone if phone and is_user(phone) else main
        if lid is None and main and is_lid(main):
            lid = main
        if not person:
            continue
        participants.append(
            GroupParticipantRecord(
                jid=person,
                lid=lid if lid and is_lid(lid) else None,
                is_admin=bool(p.IsAdmin or p.IsSuperAdmin),
                is_super_admin=bool(p.IsSuperAdmin),
                display_name=_text_or_none(p.DisplayName),
            )
        )
    return GroupRecord(
        jid=jid,
        name=_text_or_none(info.GroupName.Name) if info.HasField("GroupName") else None,
        topic=_text_or_none(info.GroupTopic.Topic) if info.HasField("GroupTopic") else None,
        participants=participants,
    )


def convert_joined_group(ev: N.JoinedGroup) -> GroupEvent | None:
    try:
        group = group_record(ev.GroupInfo) if ev.HasField("GroupInfo") else None
        return GroupEvent(group=group) if group else None
    except Exception:
        logger.exception("could not convert a joined-group event; skipping it")
        return None


def convert_group_info(ev: N.GroupInfoEvent) -> GroupEvent | None:
    """A group change notice; only name and topic changes are carried (participants: None)."""
    try:
        jid = jid_proto(ev.JID)
        if not jid or not is_group(jid):
            return None
        name = _text_or_none(ev.Name.Name) if ev.HasField("Name") else None
        topic = _text_or_none(ev.Topic.Topic) if ev.HasField("Topic") else None
        if name is None and topic is None:
            return None
        return GroupEvent(group=GroupRecord(jid=jid, name=name, topic=topic))
    except Exception:
        logger.exception("could not convert a group-info event; skipping it")
        return None


def convert_contacts(contacts: Iterable[N.Contact]) -> ContactsEvent | None:
    """whatsmeow's local contact store (saved, push and business names) as a `ContactsEvent`."""
    out: list[ContactRecord] = []
    try:
        for c in contacts:
            try:
                jid = jid_proto(c.JID)
                if not jid or not is_user(jid):
                    continue
                info = c.Info
                out.append(
                    ContactRecord(
                        jid=jid,
                        saved_name=_text_or_none(info.FullName) or _text_or_none(info.FirstName),
                        push_name=_text_or_none(info.PushName),
                        business_name=_text_or_none(info.BusinessName),
                    )
                )
            except Exception:
                logger.exception("skipping a malformed contact")
    except Exception:
        logger.exception("could not read the contact list")
    return ContactsEvent(contacts=out) if out else None


# ---------------------------------------------------------------- connection


_OUTDATED_DETAIL = (
    'WhatsApp rejected this client version (405 "client outdated"). Upgrade whatsapp-mcp '
    "(it pins neonize, which carries the WhatsApp version) and start it again."
)
_LOGGED_OUT_DETAIL = (
    "This device was logged out of WhatsApp{why}. Pair again from the phone "
    "(WhatsApp > Linked devices)."
)


def _ban_detail(code_name: str, expires: datetime | None) -> str:
    until = f" until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    reason = code_name.replace("_", " ").lower() if code_name else "unknown reason"
    return f"WhatsApp temporarily banned this account{until} (reason: {reason}). Wait it out."


def _enum_name(enum_type, value: int) -> str:
    try:
        return enum_type.Name(value)
    except Exception:
        return ""


def convert_connection(ev, *, now: datetime | None = None) -> ConnectionEvent | None:
    """Connection-level neonize events as a `ConnectionEvent` with a sentence for people."""
    try:
        return _convert_connection(ev, now or _now())
    except Exception:
        logger.exception("could not convert a connection event")
        return None


def _convert_connection(ev, now: datetime) -> ConnectionEvent | None:
    cs = ConnectionState
    if isinstance(ev, N.Connected):
        return ConnectionEvent(state=cs.connected, detail="Connected to WhatsApp.")
    if isinstance(ev, N.KeepAliveRestored):
        return ConnectionEvent(state=cs.connected, detail="Connection to WhatsApp restored.")
    if isinstance(ev, N.LoggedOut):
        reason = _enum_name(N.ConnectFailureReason, ev.Reason) if ev.HasField("Reason") else ""
        why = f" ({reason.replace('_', ' ').lower()})" if reason else ""
        return ConnectionEvent(state=cs.logged_out, detail=_LOGGED_OUT_DETAIL.format(why=why))
    if isinstance(ev, N.ClientOutdated):
        return ConnectionEvent(state=cs.outdated, detail=_OUTDATED_DETAIL)
    if isinstance(ev, N.TemporaryBan):
        expires = None
        if ev.Expire > 0:
            try:
                expires = now + timedelta(seconds=ev.Expire)
            except OverflowError:
                expires = None
        code = _enum_name(N.TemporaryBan.TempBanReason, ev.Code) if ev.HasField("Code") else ""
        return ConnectionEvent(
            state=cs.banned, detail=_ban_detail(code, expires), ban_expires_at=expires
        )
    if isinstance(ev, N.ConnectFailure):
        reason = _enum_name(N.ConnectFailureReason, ev.Reason) if ev.HasField("Reason") else ""
        message = f": {ev.Message}" if ev.Message else ""
        if reason in ("LOGGED_OUT", "MAIN_DEVICE_GONE", "UNKNOWN_LOGOUT"):
            why = f" ({reason.replace('_', ' ').lower()})"
            return ConnectionEvent(state=cs.logged_out, detail=_LOGGED_OUT_DETAIL.format(why=why))
        if reason in ("CLIENT_OUTDATED", "BAD_USER_AGENT"):
            return ConnectionEvent(state=cs.outdated, detail=_OUTDATED_DETAIL)
        if reason == "TEMP_BANNED":
            return ConnectionEvent(state=cs.banned, detail=_ban_detail("", None))
        label = reason.replace("_", " ").lower() or "unknown reason"
        return ConnectionEvent(
            state=cs.disconnected,
            detail=f"WhatsApp refused the connection ({label}{message}); retrying.",
        )
    if isinstance(ev, N.StreamReplaced):
        return ConnectionEvent(
            state=cs.stream_replaced,
            detail=(
                "Another program connected with this WhatsApp session and took it over. "
                "Run only one bridge per session; start this one again to take it back."
            ),
        )
    if isinstance(ev, N.Disconnected):
        return ConnectionEvent(
            state=cs.disconnected, detail="Disconnected from WhatsApp; reconnecting."
        )
    if isinstance(ev, N.KeepAliveTimeout):
        return ConnectionEvent(
            state=cs.disconnected,
            detail=(
                f"WhatsApp's servers stopped answering (keep-alive timeout, {ev.ErrorCount} "
                "missed); reconnecting."
            ),
        )
    if isinstance(ev, N.PairStatus):
        if ev.HasField("Status") and ev.Status == N.PairStatus.SUCCESS:
            account = jid_proto(ev.ID) if ev.HasField("ID") else None
            return ConnectionEvent(
                state=cs.connecting,
                detail=f"Paired as {account or 'this account'}; finishing the connection.",
                account_jid=account,
            )
        error = ev.Error or "unknown error"
        return ConnectionEvent(state=cs.pairing, detail=f"Pairing failed: {error}. Try again.")
    return None


# ---------------------------------------------------------------- outbound helpers

_DOWNLOAD_FIELDS = {
    MessageKind.image: ("imageMessage", E.ImageMessage),
    MessageKind.sticker: ("stickerMessage", E.StickerMessage),
    MessageKind.video: ("videoMessage", E.VideoMessage),
    MessageKind.audio: ("audioMessage", E.AudioMessage),
    MessageKind.voice: ("audioMessage", E.AudioMessage),
    MessageKind.document: ("documentMessage", E.DocumentMessage),
}


def guess_media_kind(mime_type: str | None) -> MessageKind:
    mime = (mime_type or "").lower()
    if mime == "image/webp":
        return MessageKind.sticker
    if mime.startswith("image/"):
        return MessageKind.image
    if mime.startswith("video/"):
        return MessageKind.video
    if mime.startswith("audio/"):
        return MessageKind.audio
    return MessageKind.document


def download_message(media: MediaInfo, kind: MessageKind | None = None) -> E.Message:
    """A waE2E message carrying just what `download_any` needs to fetch stored media.

    Raises ValueError when the stored fields cannot locate the file.
    """
    kind = kind or guess_media_kind(media.mime_type)
    if kind not in _DOWNLOAD_FIELDS:
        raise ValueError(f"a {kind.value} message has no attachment to download")
    if not media.direct_path and not media.url:
        raise ValueError("the message has no download path stored")
    if not media.media_key or not media.file_enc_sha256:
        raise ValueError("the message has no media key stored")
    field, cls = _DOWNLOAD_FIELDS[kind]
    sub = cls(
        directPath=media.direct_path or "",
        URL=media.url or "",
        mediaKey=base64.b64decode(media.media_key),
        fileEncSHA256=base64.b64decode(media.file_enc_sha256),
        fileSHA256=base64.b64decode(media.file_sha256 or ""),
        mimetype=media.mime_type or "",
    )
    if media.file_size is not None:
        sub.fileLength = media.file_size
    if kind is MessageKind.voice:
        sub.PTT = True
    return E.Message(**{field: sub})
