"""Downloading a message's attachment into `<data dir>/media/` (download_media, transcription).

Changes nothing on WhatsApp. A file already downloaded whole (size and hash match) is served
from disk; media WhatsApp no longer keeps raises the transport's `MediaUnavailable`, which the
control API answers as 410 `media_expired`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bridge.control.models import DownloadRequest, DownloadResponse
from bridge.send import media_files
from store.errors import InvalidArgument
from store.models import MEDIA_KINDS

if TYPE_CHECKING:
    from bridge.daemon import Bridge


async def download(bridge: Bridge, req: DownloadRequest) -> DownloadResponse:
    chat = await bridge.sender.resolve(req.chat)
    msg = bridge.reader.get_message(chat, req.message_id)
    if msg.kind not in MEDIA_KINDS or msg.media is None:
        raise InvalidArgument(
            f"Message {msg.id} is a {msg.kind.value} message; it has no attachment to download."
        )
    if msg.deleted:
        raise InvalidArgument(f"Message {msg.id} was deleted; its attachment is gone.")
    media = msg.media
    target = media_files.download_path(
        bridge.paths.media, chat, msg.id, media.mime_type, media.filename
    )
    cached, size = await asyncio.to_thread(
        media_files.cached_download, target, media.file_size, media.file_sha256
    )
    if not cached:
        fields: dict[str, object] = media.model_dump(exclude_none=True)
        fields["kind"] = msg.kind.value
        data = await bridge.transport.download_media(chat, msg.id, fields)
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
