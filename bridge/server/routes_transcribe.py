"""Control API for voice-note transcription (bridge/media/transcribe.py)."""

from __future__ import annotations

from bridge.control.transcribe import TranscribeRequest, TranscribeResponse
from bridge.media.transcribe import Transcription
from bridge.server.app import Route


def routes(transcription: Transcription) -> list[Route]:
    async def transcribe(req: TranscribeRequest) -> TranscribeResponse:
        return await transcription.transcribe(req)

    return [Route("POST", "/api/transcribe", transcribe, TranscribeRequest)]
