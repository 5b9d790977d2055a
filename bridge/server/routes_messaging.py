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
from bridge.media import downloads
from bridge.send import media_files
from bridge.server.app import Route

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
        return await downloads.download(self.bridge, req)
