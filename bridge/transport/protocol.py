"""The Transport protocol: the only door to WhatsApp.

A transport turns WhatsApp into a stream of typed events (store records, already converted) and
carries out commands. `NeonizeTransport` talks to the real service; `SimulatedTransport` is an
in-memory WhatsApp for tests, the demo and benchmarks. Both must pass the same contract tests.

Connection states and what follows them:

    disconnected ──start()──► connecting ──► connected
                                  │  └─────► pairing (not paired: QR / phone code) ──► connected
                                  └────────► logged_out | outdated | banned   (permanent: stop)
    connected ──network lost──► disconnected ──backoff──► connecting
    connected ──another client took the session──► stream_replaced
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

# Connection states are part of the wire contract; defined there, re-exported here.
from bridge.control.states import PERMANENT_STATES as PERMANENT_STATES
from bridge.control.states import ConnectionState
from store.models import (
    ChatRecord,
    ContactRecord,
    DeleteRecord,
    EditRecord,
    GroupRecord,
    HistoryBatch,
    MediaInfo,
    MessageKind,
    MessageRecord,
    ReactionRecord,
    ReceiptRecord,
)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageEvent(_Event):
    type: Literal["message"] = "message"
    message: MessageRecord
    contact: ContactRecord | None = Field(
        default=None, description="What the message taught us about its sender (push name, LID)."
    )
    chat: ChatRecord | None = None


class HistoryEvent(_Event):
    type: Literal["history"] = "history"
    batch: HistoryBatch
    progress: int | None = Field(
        default=None, description="Percent of the history sync done, if known."
    )
    sync_type: str | None = Field(
        default=None, description="whatsmeow's sync type (INITIAL_BOOTSTRAP, RECENT, FULL, ...)."
    )
    chunk_order: int | None = Field(default=None, description="The chunk's order within its type.")
    final: bool = Field(default=False, description="The producer knows no more chunks follow.")


class ContactsEvent(_Event):
    type: Literal["contacts"] = "contacts"
    contacts: list[ContactRecord]


class GroupEvent(_Event):
    type: Literal["group"] = "group"
    group: GroupRecord


class ReactionEvent(_Event):
    type: Literal["reaction"] = "reaction"
    reaction: ReactionRecord


class EditEvent(_Event):
    type: Literal["edit"] = "edit"
    edit: EditRecord


class DeleteEvent(_Event):
    type: Literal["delete"] = "delete"
    delete: DeleteRecord


class ReceiptEvent(_Event):
    type: Literal["receipt"] = "receipt"
    receipt: ReceiptRecord


class ConnectionEvent(_Event):
    type: Literal["connection"] = "connection"
    state: ConnectionState
    detail: str | None = None
    account_jid: str | None = None
    ban_expires_at: datetime | None = None


class PairingEvent(_Event):
    type: Literal["pairing"] = "pairing"
    qr: str | None = Field(
        default=None, description="Raw QR payload to render, if this is a QR step."
    )
    code: str | None = Field(default=None, description="8-character phone pairing code.")
    expires_at: datetime | None = None


class MediaUpdateEvent(_Event):
    """Better media for a stored message (issue 12: an HD dual upload replaces its parent's)."""

    type: Literal["media_update"] = "media_update"
    chat_jid: str
    message_id: str
    media: MediaInfo


TransportEvent = (
    MessageEvent
    | HistoryEvent
    | ContactsEvent
    | GroupEvent
    | ReactionEvent
    | EditEvent
    | DeleteEvent
    | ReceiptEvent
    | ConnectionEvent
    | PairingEvent
    | MediaUpdateEvent
)


class SendResult(_Event):
    """What WhatsApp answered for a send: the new message's id and server timestamp."""

    id: str
    timestamp: datetime
    # issue 12: where the attachment I sent lives and its keys, so I can download it again.
    media: MediaInfo | None = None


class OutboundText(_Event):
    chat_jid: str
    text: str
    reply_to_id: str | None = None
    reply_to_sender: str | None = None
    reply_to_text: str | None = None
    mentions: list[str] = Field(default_factory=list)
    expiration: int | None = None  # issue 12: the chat's disappearing-messages timer (s)


class OutboundMedia(_Event):
    chat_jid: str
    kind: MessageKind
    data: bytes
    mime_type: str
    filename: str | None = None
    caption: str | None = None
    reply_to_id: str | None = None
    # issue 12: a media reply shows as a reply only with the quoted sender and message.
    reply_to_sender: str | None = None
    reply_to_text: str | None = None
    expiration: int | None = None


class TransportError(Exception):
    """A command failed on the WhatsApp side; the message says what to do."""


class NotConnected(TransportError):
    """The command needs a live, paired connection."""


class MediaUnavailable(TransportError):
    """WhatsApp no longer has the attachment (expired or deleted from its servers)."""


@runtime_checkable
class Transport(Protocol):
    """Everything the bridge needs from WhatsApp."""

    name: str

    @property
    def state(self) -> ConnectionState: ...

    @property
    def account_jid(self) -> str | None: ...

    def is_paired(self) -> bool:
        """Known without a connection (from the session store)."""
        ...

    async def start(self) -> None:
        """Begin connecting; returns at once. Progress arrives as ConnectionEvents."""
        ...

    async def stop(self) -> None: ...

    def events(self) -> AsyncIterator[TransportEvent]:
        """The single stream of events; iterate it from one task."""
        ...

    async def send_text(self, message: OutboundText) -> SendResult: ...

    async def send_media(self, media: OutboundMedia) -> SendResult: ...

    async def send_reaction(
        self, chat_jid: str, message_id: str, sender: str | None, emoji: str
    ) -> SendResult: ...

    async def mark_read(
        self, chat_jid: str, message_ids: list[str], sender: str | None
    ) -> None: ...

    async def set_typing(self, chat_jid: str, typing: bool) -> None: ...

    async def download_media(
        self, chat_jid: str, message_id: str, media: dict[str, object]
    ) -> bytes:
        """Bytes of an attachment, from the media fields stored with the message."""
        ...

    async def pair_phone(self, phone: str) -> str:
        """Start phone-number pairing; returns the 8-character code to type on the phone."""
        ...

    async def logout(self) -> None: ...
