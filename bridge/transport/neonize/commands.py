# pyright: basic
"""The commands of `NeonizeTransport`: blocking neonize calls, run off the event loop.

Every call raises `NotConnected` unless the current client is connected, so none reaches Go in
a state where it can panic (sends, receipts and downloads only *raise* "client is nil" there,
but we do not rely on it).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
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


def _ffmpeg_available() -> bool:
    return bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))


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
        if message.reply_to_id or mentions:
            ctx = e2e.ContextInfo(mentionedJID=mentions)
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
        client, nz = self._require_connected()
        kind = media.kind
        if kind in (MessageKind.voice, MessageKind.audio, MessageKind.video, MessageKind.sticker):
            if not _ffmpeg_available():
                raise TransportError(
                    f"Sending a {kind.value} needs ffmpeg and ffprobe; install ffmpeg "
                    "(e.g. apt install ffmpeg / brew install ffmpeg) and try again."
                )
        data = bytes(media.data)  # bytes only: neonize treats a str as a path or URL
        builders: dict[MessageKind, tuple[str, Callable[[], Any]]] = {
            MessageKind.image: (
                "imageMessage",
                lambda: client.build_image_message(data, caption=media.caption),
            ),
            MessageKind.video: (
                "videoMessage",
                lambda: client.build_video_message(data, caption=media.caption),
            ),
            MessageKind.audio: ("audioMessage", lambda: client.build_audio_message(data)),
            MessageKind.voice: ("audioMessage", lambda: client.build_audio_message(data, ptt=True)),
            MessageKind.sticker: ("stickerMessage", lambda: client.build_sticker_message(data)),
            MessageKind.document: (
                "documentMessage",
                lambda: client.build_document_message(
                    data,
                    caption=media.caption,
                    filename=media.filename,
                    title=media.filename,
                    mimetype=media.mime_type,
                ),
            ),
        }
        if kind not in builders:
            raise TransportError(f"Cannot send a {kind.value} as media.")
        field, build = builders[kind]
        msg = await self._call(f"upload the {kind.value}", build)
        if kind is MessageKind.voice:
            # neonize takes libmagic's "audio/ogg"; WhatsApp plays voice notes declared as Opus.
            msg.audioMessage.mimetype = "audio/ogg; codecs=opus"
        if media.reply_to_id:
            getattr(msg, field).contextInfo.stanzaID = media.reply_to_id
        to = jid_proto(nz["utils"], media.chat_jid)
        resp = await self._call(f"send the {kind.value}", client.send_message, to, msg)
        return _send_result(resp)

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
        await self._call(
            "send the typing indicator",
            client.send_chat_presence,
            jid_proto(nz["utils"], chat_jid),
            state,
            enum.ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT,
        )

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
    ts = datetime.fromtimestamp(resp.Timestamp, tz=timezone.utc) if resp.Timestamp else None
    return SendResult(id=resp.ID, timestamp=ts or datetime.now(timezone.utc))


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
