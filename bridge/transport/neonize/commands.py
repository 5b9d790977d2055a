# pyright: basic
"""The commands of `NeonizeTransport`: blocking neonize calls, run off the event loop.

Every call raises `NotConnected` unless the current client is connected, so none reaches Go in
a state where it can panic (sends, receipts and downloads only *raise* "client is nil" there,
but we do not rely on it).
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from bridge.transport.protocol import (
    ConnectionState,
    MediaUnavailable,
    NotConnected,
    OutboundMedia,
    OutboundText,
    SendResult,
    TransportError,
)
from store.jid import is_group, normalize_jid, server_part, user_part
from store.models import MediaInfo, MessageKind

# whatsmeow's DownloadHTTPError for media the CDN no longer has (expired or deleted).
_EXPIRED_MEDIA = re.compile(r"status code (403|404|410)\b|media not found|no longer available")


def jid_proto(utils: ModuleType, jid: str):
    norm = normalize_jid(jid)
    return utils.build_jid(user_part(norm), server_part(norm))


# The upload type decides the key-derivation info string ("WhatsApp Image Keys", …).
_UPLOAD_TYPES = {
    MessageKind.image: "MediaImage",
    MessageKind.sticker: "MediaImage",
    MessageKind.video: "MediaVideo",
    MessageKind.audio: "MediaAudio",
    MessageKind.voice: "MediaAudio",
    MessageKind.document: "MediaDocument",
}
_MESSAGE_FIELDS = {
    MessageKind.image: ("imageMessage", "ImageMessage"),
    MessageKind.sticker: ("stickerMessage", "StickerMessage"),
    MessageKind.video: ("videoMessage", "VideoMessage"),
    MessageKind.audio: ("audioMessage", "AudioMessage"),
    MessageKind.voice: ("audioMessage", "AudioMessage"),
    MessageKind.document: ("documentMessage", "DocumentMessage"),
}


def _sent_mime(kind: MessageKind, mime: str) -> str:
    """The mimetype the recipient's app is told; ours, never libmagic's guess."""
    if kind is MessageKind.voice and mime.startswith("audio/ogg"):
        return "audio/ogg; codecs=opus"  # what WhatsApp plays as a voice note
    if kind in (MessageKind.voice, MessageKind.audio) and mime.startswith("video/"):
        return "audio/" + mime.split("/", 1)[1]  # audio-only MP4/WebM
    return mime


def _b64(data: bytes) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


class NeonizeCommands:
    """Mixin: needs `_client`, `_nz`, `_state` and `_account_jid` from the transport."""

    _nz: dict[str, ModuleType] | None
    _state: ConnectionState
    _account_jid: str | None

    @property
    def _client(self) -> Any:  # overridden by the transport
        raise NotImplementedError

    def _require_connected(self) -> tuple[Any, dict[str, ModuleType]]:
        if self._client is None or self._nz is None or self._state is not ConnectionState.connected:
            raise NotConnected(
                f"WhatsApp is not connected (state: {self._state.value}); "
                "wait for the connection or pair first."
            )
        return self._client, self._nz

    async def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        nz = self._nz
        assert nz is not None
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except nz["exc"].NeonizeError as exc:
            raise _map_error(what, exc) from exc

    async def send_text(self, message: OutboundText) -> SendResult:
        client, nz = self._require_connected()
        e2e = nz["e2e"]
        to = jid_proto(nz["utils"], message.chat_jid)
        mentions = [normalize_jid(m) for m in message.mentions]
        if message.reply_to_id or mentions or message.expiration:
            ctx = e2e.ContextInfo(mentionedJID=mentions)
            if message.expiration:
                ctx.expiration = message.expiration  # sends into a disappearing chat disappear
            if message.reply_to_id:
                ctx.stanzaID = message.reply_to_id
                if message.reply_to_sender:
                    ctx.participant = normalize_jid(message.reply_to_sender)
                ctx.quotedMessage.CopyFrom(e2e.Message(conversation=message.reply_to_text or ""))
            msg = e2e.Message(
                extendedTextMessage=e2e.ExtendedTextMessage(text=message.text, contextInfo=ctx)
            )
        else:
            msg = e2e.Message(conversation=message.text)
        resp = await self._call("send the message", client.send_message, to, msg)
        return _send_result(resp)

    async def send_media(self, media: OutboundMedia) -> SendResult:
        """Upload with the key type of the message kind and build the message ourselves.

        neonize's `build_*_message` lets libmagic pick the upload type, so an audio-only MP4
        ("video/mp4" to libmagic) would be encrypted with video keys and sent as audio, which
        the recipient cannot decrypt; and it keeps none of the keys we need to download our
        own attachment later.
        """
        client, nz = self._require_connected()
        kind, e2e = media.kind, nz["e2e"]
        if kind not in _UPLOAD_TYPES:
            raise TransportError(f"Cannot send a {kind.value} as media.")
        data = bytes(media.data)  # bytes only: neonize treats a str as a path or URL
        upload_type = getattr(nz["enum"].MediaType, _UPLOAD_TYPES[kind])
        up = await self._call(f"upload the {kind.value}", client.upload, data, upload_type)
        mime = _sent_mime(kind, media.mime_type)
        fields: dict[str, Any] = {
            "URL": up.url,
            "directPath": up.DirectPath,
            "mediaKey": up.MediaKey,
            "fileEncSHA256": up.FileEncSHA256,
            "fileSHA256": up.FileSHA256,
            "fileLength": up.FileLength or len(data),
            "mimetype": mime,
            "mediaKeyTimestamp": int(time.time()),
        }
        field, cls = _MESSAGE_FIELDS[kind]
        if kind in (MessageKind.image, MessageKind.video, MessageKind.document) and media.caption:
            fields["caption"] = media.caption
        if kind is MessageKind.voice:
            fields["PTT"] = True
        if kind is MessageKind.document:
            fields["fileName"] = media.filename or "file"
            fields["title"] = media.filename or "file"
        sub = getattr(e2e, cls)(**fields)
        if media.expiration:
            sub.contextInfo.expiration = media.expiration
        if media.reply_to_id:
            ctx = sub.contextInfo
            ctx.stanzaID = media.reply_to_id
            if media.reply_to_sender:
                ctx.participant = normalize_jid(media.reply_to_sender)
            ctx.quotedMessage.CopyFrom(e2e.Message(conversation=media.reply_to_text or ""))
        msg = e2e.Message(**{field: sub})
        to = jid_proto(nz["utils"], media.chat_jid)
        resp = await self._call(f"send the {kind.value}", client.send_message, to, msg)
        sent = MediaInfo(
            mime_type=mime,
            filename=media.filename,
            file_size=int(fields["fileLength"]),
            url=up.url or None,
            direct_path=up.DirectPath or None,
            media_key=_b64(up.MediaKey),
            file_sha256=_b64(up.FileSHA256),
            file_enc_sha256=_b64(up.FileEncSHA256),
        )
        return _send_result(resp).model_copy(update={"media": sent})

    async def send_reaction(
        self, chat_jid: str, message_id: str, sender: str | None, emoji: str
    ) -> SendResult:
        client, nz = self._require_connected()
        utils = nz["utils"]
        chat = jid_proto(utils, chat_jid)
        author = sender or self._account_jid or chat_jid
        msg = await self._call(
            "build the reaction",
            client.build_reaction,
            chat,
            jid_proto(utils, author),
            message_id,
            emoji,
        )
        resp = await self._call("send the reaction", client.send_message, chat, msg)
        return _send_result(resp)

    async def mark_read(self, chat_jid: str, message_ids: list[str], sender: str | None) -> None:
        client, nz = self._require_connected()
        if not message_ids:
            return
        if sender is None and is_group(chat_jid):
            raise TransportError("Marking group messages read needs the messages' sender.")
        utils = nz["utils"]
        await self._call(
            "mark the messages read",
            client.mark_read,
            *message_ids,
            chat=jid_proto(utils, chat_jid),
            sender=jid_proto(utils, sender or chat_jid),
            receipt=nz["enum"].ReceiptType.READ,
        )

    async def set_typing(self, chat_jid: str, typing: bool) -> None:
        client, nz = self._require_connected()
        enum = nz["enum"]
        state = (
            enum.ChatPresence.CHAT_PRESENCE_COMPOSING
            if typing
            else enum.ChatPresence.CHAT_PRESENCE_PAUSED
        )
        if typing:
            # WhatsApp shows chat states only from clients that are "available"; being
            # available also mutes the phone's notifications, so it lasts only while typing.
            await self._call("go online", client.send_presence, enum.Presence.AVAILABLE)
        await self._call(
            "send the typing indicator",
            client.send_chat_presence,
            jid_proto(nz["utils"], chat_jid),
            state,
            enum.ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT,
        )
        if not typing:
            await self._call("go offline", client.send_presence, enum.Presence.UNAVAILABLE)

    async def download_media(
        self, chat_jid: str, message_id: str, media: dict[str, object]
    ) -> bytes:
        client, nz = self._require_connected()
        convert = nz["convert"]
        fields = {k: v for k, v in media.items() if k in MediaInfo.model_fields}
        raw_kind = media.get("kind")
        try:
            info = MediaInfo.model_validate(fields)
            kind = MessageKind(raw_kind) if raw_kind else None
            msg = convert.download_message(info, kind)
        except ValueError as exc:
            raise TransportError(f"Cannot download message {message_id}: {exc}") from exc
        try:
            data = await self._call("download the attachment", client.download_any, msg)
        except TransportError as exc:
            if _EXPIRED_MEDIA.search(str(exc)):
                # whatsmeow can ask the phone to re-upload (SendMediaRetryReceipt), but neonize
                # 0.5.2 binds neither that call nor the MediaRetry event, so we cannot.
                raise MediaUnavailable(
                    f"The attachment of message {message_id} has expired on WhatsApp's servers "
                    f"({exc}). Open the chat on your phone to re-download it there, or ask the "
                    "sender to send it again."
                ) from exc
            raise
        if not isinstance(data, bytes | bytearray):
            raise TransportError(f"WhatsApp returned no data for message {message_id}.")
        return bytes(data)


# ---------------------------------------------------------------- helpers


def _send_result(resp: Any) -> SendResult:
    ts = datetime.fromtimestamp(resp.Timestamp, tz=UTC) if resp.Timestamp else None
    return SendResult(id=resp.ID, timestamp=ts or datetime.now(UTC))


def _map_error(what: str, exc: Exception) -> TransportError:
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if (
        any(
            s in low
            for s in ("client is nil", "not connected", "websocket not connected", "not logged in")
        )
        or "doesn't contain a device jid" in low
    ):
        return NotConnected(f"Could not {what}: WhatsApp is not connected ({text}).")
    return TransportError(f"Could not {what}: {text}")
