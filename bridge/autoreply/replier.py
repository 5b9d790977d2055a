"""What the engine needs from a model: text in, one reply out.

ReplyError
 ├── ReplyRetryable   rate limited, server error, network trouble: worth another try
 └── ReplyFailed      anything else (bad key, blocked answer, no text): give up on this message
"""

from __future__ import annotations

import os
from typing import Protocol

from pydantic import BaseModel, ConfigDict

# Where google-genai looks for the key (GOOGLE_API_KEY wins when both are set).
KEY_VARS = ("GOOGLE_API_KEY", "GEMINI_API_KEY")


def api_key_configured() -> bool:
    return any(os.environ.get(name, "").strip() for name in KEY_VARS)


class ReplyError(Exception):
    """Generating a reply did not work; the message says why."""


class ReplyRetryable(ReplyError):
    """A temporary failure (HTTP 408/429/5xx or a network error)."""


class ReplyFailed(ReplyError):
    """A failure another try would not fix."""


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    system_instruction: str
    prompt: str


class Generated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    attempts: int = 1


class Transcribed(BaseModel):
    """A voice note's transcript (issue 18), from bridge.autoreply.gemini.GeminiTranscriber."""

    model_config = ConfigDict(extra="forbid")

    text: str
    language: str | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None


class Replier(Protocol):
    async def generate(self, request: ReplyRequest) -> Generated:
        """One reply, or ReplyRetryable / ReplyFailed. No retries: the engine owns them."""
        ...

    async def aclose(self) -> None: ...
