"""Control API wire models for auto-reply rules (unknown fields are a 422, as everywhere)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from store.autoreply import AutoReplyRule, RuleMode

KILL_SWITCH = "*"


class SetAutoReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat: str = Field(min_length=1, max_length=200)
    enabled: bool
    instructions: str | None = Field(default=None, max_length=4000)
    mode: RuleMode | None = None
    static_text: str | None = Field(default=None, max_length=4096)
    until: datetime | None = None
    quiet_hours: str | None = Field(default=None, max_length=20)
    mention_only: bool | None = None


class AutoReplyState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[AutoReplyRule]
    model: str = Field(description="Gemini model used for mode 'gemini'.")
    gemini_key_configured: bool
