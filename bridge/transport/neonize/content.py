# pyright: basic
"""What a waE2E message shows a person: its kind, text, caption, media and context."""

from __future__ import annotations

import logging
from datetime import datetime

from bridge.transport.neonize.env import prepare_neonize_environment

prepare_neonize_environment()  # before neonize loads: bot tag off, logging, stdout pipes

from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E  # noqa: E402

from bridge.transport.neonize.convert_base import (  # noqa: E402
    _CARRIER_FIELDS,
    _POLL_FIELDS,
    _b64,
    _text_or_none,
    jid_str,
)
from store.models import (  # noqa: E402
    MediaInfo,
    MessageKind,
    MessageRecord,
)

logger = logging.getLogger(__name__)

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


# Message types that show a person nothing, as whatsmeow and mautrix classify them
# (mautrix `wamsgtype.go` "ignore"): poll votes and encrypted reactions we cannot decrypt
# (neonize binds no DecryptReaction), key distribution, keep/pin markers, history bundles,
# event responses, placeholders, and the album announcement (its photos come as messages).
IGNORED_FIELDS = frozenset(
    {
        "pollUpdateMessage",
        "encReactionMessage",
        "encCommentMessage",
        "senderKeyDistributionMessage",
        "fastRatchetKeySenderKeyDistributionMessage",
        "keepInChatMessage",
        "pinInChatMessage",
        "messageHistoryBundle",
        "messageHistoryNotice",
        "encEventResponseMessage",
        "placeholderMessage",
        "stickerSyncRmrMessage",
        "secretEncryptedMessage",
        "albumMessage",
        "messageContextInfo",
    }
)


def _join(*parts: str) -> str | None:
    text = "\n".join(p for p in (x.strip() for x in parts) if p)
    return text or None


def business_text(msg: E.Message) -> tuple[str, E.ContextInfo | None] | None:
    """The text of template, interactive, buttons and list messages (bank codes, delivery
    notices) and of the replies to them; None when `msg` is none of these."""
    if msg.HasField("templateMessage"):
        t = msg.templateMessage
        h = t.hydratedTemplate if t.HasField("hydratedTemplate") else t.hydratedFourRowTemplate
        text = _join(h.hydratedTitleText, h.hydratedContentText, h.hydratedFooterText)
        if text is None and t.HasField("interactiveMessageTemplate"):
            i = t.interactiveMessageTemplate
            text = _join(i.header.title, i.body.text, i.footer.text)
        return (text or "[template message]", _ctx(t))
    if msg.HasField("interactiveMessage"):
        i = msg.interactiveMessage
        text = _join(i.header.title, i.header.subtitle, i.body.text, i.footer.text)
        return (text or "[interactive message]", _ctx(i))
    if msg.HasField("buttonsMessage"):
        b = msg.buttonsMessage
        return (_join(b.text, b.contentText, b.footerText) or "[buttons message]", _ctx(b))
    if msg.HasField("listMessage"):
        lm = msg.listMessage
        return (_join(lm.title, lm.description, lm.footerText) or "[list message]", _ctx(lm))
    for name in ("buttonsResponseMessage", "templateButtonReplyMessage"):
        if msg.HasField(name):
            sub = getattr(msg, name)
            return (sub.selectedDisplayText or "[button reply]", _ctx(sub))
    if msg.HasField("listResponseMessage"):
        lr = msg.listResponseMessage
        return (_join(lr.title, lr.description) or "[list reply]", _ctx(lr))
    return None


def hd_child(msg: E.Message) -> tuple[str, _Content] | None:
    """An HD dual upload (`associatedChildMessage`): (parent message id, the HD content).

    The HD copy replaces its parent's media (mautrix treats it as an edit of the parent); a
    motion photo or any other association is not a message of its own either.
    """
    if not msg.HasField("associatedChildMessage"):
        return None
    child = msg.associatedChildMessage.message
    assoc = child.messageContextInfo.messageAssociation
    if not assoc.parentMessageKey.ID:
        assoc = msg.messageContextInfo.messageAssociation
    kinds = E.MessageAssociation.AssociationType
    hd = (kinds.HD_IMAGE_DUAL_UPLOAD, kinds.HD_VIDEO_DUAL_UPLOAD, kinds.HEVC_VIDEO_DUAL_UPLOAD)
    content = extract_content(child)
    if assoc.associationType not in hd or not assoc.parentMessageKey.ID or content is None:
        return ("", _Content(MessageKind.unknown))  # known, nothing to show
    return (assoc.parentMessageKey.ID, content)


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
    business = business_text(msg)
    if business is not None:
        text, ctx = business
        return _Content(MessageKind.text, text=text, context=ctx)
    present = [f.name for f, _ in msg.ListFields() if f.name not in _CARRIER_FIELDS]
    if not present or all(name in IGNORED_FIELDS for name in present):
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
