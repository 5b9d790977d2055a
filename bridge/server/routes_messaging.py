"""Control API for the rest of the messaging surface: files, reactions, read receipts, downloads.

Sends (files, reactions, read receipts) go through `Sender`, hence through its one gate.
Downloads change nothing on WhatsApp; they only write under `<data dir>/media/`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bridge.control.models import (
    DownloadRequest,
    DownloadResponse,
    MarkReadRequest,
    MarkReadResponse,
    ReactRequest,
    ReactResponse,
    SendFileRequest,
    SendFileResponse,
)
from bridge.send import media_files
from bridge.server.app import Route
from bridge.server.errors import HttpError
from bridge.transport.protocol import MediaUnavailable
from store.errors import InvalidArgument
from store.models import MEDIA_KINDS

if TYPE_CHECKING:
    from bridge.daemon import Bridge


def routes(bridge: Bridge) -> list[Route]:
    messaging = Messaging(bridge)
    return [
        Route("POST", "/api/send_file", messaging.send_file, SendFileRequest),
        Route("POST", "/api/react", messaging.react, ReactRequest),
        Route("POST", "/api/mark_read", messaging.mark_read, MarkReadRequest),
        Route("POST", "/api/download", messaging.download, DownloadRequest),
    ]


class Messaging:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def send_file(self, req: SendFileRequest) -> SendFileResponse:
        settings = self.bridge.settings
        # The bridge checks the path itself (whatever the caller checked) and reads the bytes.
        roots = media_files.parse_roots(settings.media_roots, settings.data_dir)
        file = await asyncio.to_thread(
            media_files.load_outgoing,
            req.path,
            roots,
            settings.data_dir,
            as_voice_note=req.as_voice_note,
        )
        # The control API is the tools' door: the origin is "tool", whatever the caller claims.
        return await self.bridge.sender.send_media(
            req.to, file, caption=req.caption, reply_to=req.reply_to, origin="tool"
        )

    async def react(self, req: ReactRequest) -> ReactResponse:
        return await self.bridge.sender.send_reaction(req.model_copy(update={"origin": "tool"}))

    async def mark_read(self, req: MarkReadRequest) -> MarkReadResponse:
        return await self.bridge.sender.mark_read(req.model_copy(update={"origin": "tool"}))

    async def download(self, req: DownloadRequest) -> DownloadResponse:
        b = self.bridge
        chat = await b.sender.resolve(req.chat)
        msg = b.reader.get_message(chat, req.message_id)
        if msg.kind not in MEDIA_KINDS or msg.media is None:
            raise InvalidArgument(
                f"Message {msg.id} is a {msg.kind.value} message; it has no attachment to download."
            )
        if msg.deleted:
            raise InvalidArgument(f"Message {msg.id} was deleted; its attachment is gone.")
        media = msg.media
        target = media_files.download_path(
            b.paths.media, chat, msg.id, media.mime_type, media.filename
        )
        cached, size = await asyncio.to_thread(
            media_files.cached_download, target, media.file_size, media.file_sha256
        )
        if not cached:
            fields: dict[str, object] = media.model_dump(exclude_none=True)
            fields["kind"] = msg.kind.value
            try:
                data = await b.transport.download_media(chat, msg.id, fields)
            except MediaUnavailable as exc:
                raise HttpError(410, "media_expired", str(exc)) from exc
            await asyncio.to_thread(media_files.save_download, target, data)
            size = len(data)
        return DownloadResponse(
            chat_jid=chat,
            message_id=msg.id,
            kind=msg.kind,
            path=str(target),
            mime_type=media.mime_type,
            size=size,
            filename=media.filename,
            cached=cached,
        )
