"""Auto-reply rules, their statistics and the reply ledger, as models."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ALL_CONTACTS = "all_contacts"


LedgerState = Literal["claimed", "sent", "failed", "skipped"]


class RuleMode(str, Enum):
    gemini = "gemini"
    static = "static"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleStats(_Model):
    replies: int = Field(default=0, description="Auto-replies sent under this rule.")
    last_reply_at: datetime | None = None
    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = Field(default=0, description="Gemini tokens used (usage_metadata).")
    errors: int = Field(
        default=0, description="Messages skipped because generating or sending failed."
    )
    last_error: str | None = None
    last_error_at: datetime | None = None
    skipped: int = Field(
        default=0, description="Messages not answered by a safety rule (caps, takeover, quiet…)."
    )
    last_skip_reason: str | None = None


class AutoReplyRule(_Model):
    chat: str = Field(description="Chat JID, or 'all_contacts' (saved contacts, never groups).")
    enabled: bool
    mode: RuleMode
    instructions: str | None = None
    static_text: str | None = None
    mention_only: bool = False
    until: datetime | None = Field(default=None, description="The rule switches off at this time.")
    quiet_hours: str | None = Field(
        default=None, description="'HH:MM-HH:MM' in the bridge's local time: no replies then."
    )
    created_at: datetime
    updated_at: datetime
    stats: RuleStats = Field(default_factory=RuleStats)


class RuleUpdate(_Model):
    """What the engine writes for a rule; stats are the store's business."""

    chat: str
    enabled: bool
    mode: RuleMode = RuleMode.gemini
    instructions: str | None = None
    static_text: str | None = None
    mention_only: bool = False
    until: datetime | None = None
    quiet_hours: str | None = None


class Claim(_Model):
    """A reply attempt that may go ahead: `message_ids` are now claimed in the ledger."""

    reply_seq: int
    message_ids: list[str]


class Skip(_Model):
    reason: str
    message_ids: list[str]


class LedgerEntry(_Model):
    chat_jid: str
    message_id: str
    rule: str
    state: LedgerState
    reply_id: str | None = None
    detail: str | None = None
    at: datetime
