# pyright: basic
"""Groups, contacts, connection events and outbound helpers as our models."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from bridge.transport.neonize.env import prepare_neonize_environment

prepare_neonize_environment()  # before neonize loads: bot tag off, logging, stdout pipes

from neonize.proto import Neonize_pb2 as N  # noqa: E402
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E  # noqa: E402

from bridge.transport.neonize.convert_base import (  # noqa: E402
    _now,
    _text_or_none,
    jid_proto,
)
from bridge.transport.protocol import (  # noqa: E402
    ConnectionEvent,
    ConnectionState,
    ContactsEvent,
    GroupEvent,
)
from store.jid import is_group, is_lid, is_user  # noqa: E402
from store.models import (  # noqa: E402
    ContactRecord,
    GroupParticipantRecord,
    GroupRecord,
    MediaInfo,
    MessageKind,
)

logger = logging.getLogger(__name__)


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
    # The owner's phone number when whatsmeow has it (LID-addressed groups), else its JID.
    owner = jid_proto(info.OwnerPN) if info.HasField("OwnerPN") else None
    if not owner and info.HasField("OwnerJID"):
        owner = jid_proto(info.OwnerJID)
    return GroupRecord(
        jid=jid,
        name=_text_or_none(info.GroupName.Name) if info.HasField("GroupName") else None,
        topic=_text_or_none(info.GroupTopic.Topic) if info.HasField("GroupTopic") else None,
        participants=participants,
        owner=owner or None,
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
    "(it pins neonize, which carries the WhatsApp version): see `whatsapp-mcp doctor`."
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
    if not media.direct_path:
        # whatsmeow's Download needs the direct path (ErrNoURLPresent without it, download.go).
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
