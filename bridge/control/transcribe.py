"""Voice-note transcription across the control API: wire models and the typed client call."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bridge.control.client import ControlClient
from store.transcripts import Transcript

# Voice notes are small (about 100 KB a minute); an upload can still take a while.
TRANSCRIBE_TIMEOUT = 180.0


class TranscribeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat: str = Field(min_length=1, max_length=200)
    message_id: str = Field(min_length=1, max_length=200)


class TranscribeResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transcript: Transcript
    cached: bool = Field(description="Served from the store; Gemini was not asked again.")
    seconds: int | None = Field(default=None, description="Length of the voice note.")


async def transcribe(client: ControlClient, req: TranscribeRequest) -> TranscribeResponse:
    return await client.call(
        "POST", "/api/transcribe", TranscribeResponse, req, timeout=TRANSCRIBE_TIMEOUT
    )
