"""The control API's wire models, shared by the bridge (server) and its clients.

Every request body is validated against one of these with unknown fields forbidden, so a typo
or an injected field is a 422, never silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.control.security import SecuritySettings
from bridge.control.states import ConnectionState
from store.models import MessageKind
from store.sync_state import SyncState

API_VERSION = 1
Origin = Literal["tool", "cli", "auto_reply", "scheduled"]
# Requests still carry `origin` (older clients send it), but the bridge sets the audit origin
# from the endpoint that was called: everything over the control API is "tool" (issue 13).


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Wire):
    code: str
    message: str


class ErrorEnvelope(_Wire):
    error: ErrorBody


class Health(_Wire):
    ok: bool = True
    pid: int
    api_version: int = API_VERSION
    simulate: bool
    security: SecuritySettings | None = Field(
        default=None,
        description="What the bridge enforces: the strictest settings of itself and every "
        "attached MCP server (bridge/control/security.py).",
    )


class PairingInfo(_Wire):
    qr: str | None = None
    code: str | None = None
    expires_at: datetime | None = None


class BridgeStatus(_Wire):
    state: ConnectionState
    detail: str | None = None
    advice: str = Field(description="What the user should do about this state.")
    paired: bool
    account_jid: str | None = None
    simulate: bool
    transport: str
    history_sync_progress: int | None = None
    history_sync: SyncState | None = None
    attached_clients: int
    pid: int
    started_at: datetime
    pairing: PairingInfo | None = None


class SendTextRequest(_Wire):
    to: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=65536)
    reply_to: str | None = Field(default=None, max_length=200)
    mentions: list[str] = Field(
        default_factory=list,
        max_length=256,
        description="JIDs of group participants @-mentioned in the text.",
    )
    origin: Origin = "tool"


class SendResponse(_Wire):
    id: str
    chat_jid: str
    timestamp: datetime


class SendFileRequest(_Wire):
    """A file to send, by path: the bridge checks the path against the allowed folders and
    reads the bytes itself (the API never carries file contents)."""

    to: str = Field(min_length=1, max_length=200)
    path: str = Field(min_length=1, max_length=4096)
    caption: str | None = Field(default=None, max_length=4096)
    as_voice_note: bool = False
    reply_to: str | None = Field(default=None, max_length=200)
    origin: Origin = "tool"


class SendFileResponse(_Wire):
    id: str
    chat_jid: str
    timestamp: datetime
    kind: MessageKind
    mime_type: str
    size: int
    filename: str


class ReactRequest(_Wire):
    chat: str = Field(min_length=1, max_length=200)
    message_id: str = Field(min_length=1, max_length=200)
    emoji: str = Field(max_length=32, description='One emoji; "" removes my reaction.')
    origin: Origin = "tool"


class ReactResponse(_Wire):
    chat_jid: str
    message_id: str
    emoji: str
    removed: bool


class MarkReadRequest(_Wire):
    chat: str = Field(min_length=1, max_length=200)
    up_to_message_id: str | None = Field(default=None, max_length=200)
    origin: Origin = "tool"


class MarkReadResponse(_Wire):
    chat_jid: str
    marked: int = Field(description="How many messages were reported read to WhatsApp.")
    unread_count: int = Field(description="Unread messages left in the chat.")


class DownloadRequest(_Wire):
    chat: str = Field(min_length=1, max_length=200)
    message_id: str = Field(min_length=1, max_length=200)


class DownloadResponse(_Wire):
    chat_jid: str
    message_id: str
    kind: MessageKind
    path: str
    mime_type: str | None = None
    size: int
    filename: str | None = None
    cached: bool = False


class InboundRequest(_Wire):
    sender: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=65536)
    chat: str | None = Field(default=None, max_length=200)
    push_name: str | None = Field(default=None, max_length=100)
    from_me: bool = False
    # Re-deliver a message id (as WhatsApp does after a lost acknowledgement); new ids
    # otherwise never repeat, not even across bridge restarts.
    message_id: str | None = Field(default=None, min_length=1, max_length=100)


class InboundResponse(_Wire):
    id: str
    chat_jid: str
    sender: str
    timestamp: datetime


class StopResponse(_Wire):
    stopping: bool = True


class BridgeEvent(_Wire):
    """What the event stream carries to attached servers."""

    type: str
    chat_jid: str | None = None
    message_id: str | None = None
    state: ConnectionState | None = None


class QrRequest(_Wire):
    wait_seconds: float = Field(default=20.0, ge=0, le=60)


class QrResponse(_Wire):
    qr: str = Field(description="The raw QR payload; render it, or use png_path.")
    png_path: str | None = None
    expires_at: datetime | None = None


class PairPhoneRequest(_Wire):
    phone: str = Field(min_length=5, max_length=40)


class PairCodeResponse(_Wire):
    code: str
    expires_at: datetime | None = None


class LogoutResponse(_Wire):
    logged_out: bool = True
