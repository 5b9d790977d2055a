"""The one send path. Every outbound action (tool, CLI, auto-reply; text, media, reaction, read
receipt) comes through `Sender._deliver`, which runs the policy gate, calls the transport, and
audits the outcome. Nothing else in the code base calls a transport's send methods; a test
checks that.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from bridge.api import Origin, SendResponse, SendTextRequest
from bridge.transport import OutboundText, Transport, TransportError
from bridge.writer_thread import WriterThread
from store.errors import InvalidArgument
from store.jid import is_broadcast_or_newsletter, parse_address
from store.models import MessageRecord
from store.reader import StoreReader

log = logging.getLogger(__name__)

T = TypeVar("T")
ActionKind = Literal["text", "media", "reaction", "mark_read", "typing"]
Outcome = Literal["sent", "refused", "failed"]


class SendRefused(Exception):
    """The send was refused before it reached WhatsApp; the message says why and what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class OutboundAction(BaseModel):
    """What the gate judges: who receives what, and who asked."""

    model_config = ConfigDict(extra="forbid")

    kind: ActionKind
    chat_jid: str
    origin: Origin
    text: str | None = None
    size: int | None = None


class Sender:
    def __init__(self, transport: Transport, writer: WriterThread, reader: StoreReader) -> None:
        self.transport = transport
        self.writer = writer
        self.reader = reader

    # ------------------------------------------------------------------ the gate

    async def _gate(self, action: OutboundAction) -> None:
        """Raise SendRefused when policy forbids `action`."""
        if is_broadcast_or_newsletter(action.chat_jid):
            raise SendRefused(
                "recipient_not_allowed",
                f"Sending to {action.chat_jid} (status/broadcast/newsletter) is not supported.",
            )

    async def _audit(
        self, action: OutboundAction, outcome: Outcome, detail: str | None, message_id: str | None
    ) -> None:
        """Record the attempt and its outcome."""
        log.info(
            "send %s to %s by %s: %s%s",
            action.kind,
            action.chat_jid,
            action.origin,
            outcome,
            f" ({detail})" if detail else "",
        )

    async def _deliver(self, action: OutboundAction, do: Callable[[], Awaitable[T]]) -> T:
        try:
            await self._gate(action)
        except SendRefused as exc:
            await self._audit(action, "refused", f"{exc.code}: {exc}", None)
            raise
        try:
            result = await do()
        except TransportError as exc:
            await self._audit(action, "failed", str(exc), None)
            raise
        await self._audit(action, "sent", None, getattr(result, "id", None))
        return result

    # ------------------------------------------------------------------ actions

    async def resolve(self, to: str) -> str:
        """A JID or phone number as the canonical chat JID (LID aliases mapped to the phone)."""
        jid = parse_address(to)
        if jid is None:
            raise InvalidArgument(
                f"{to!r} is not a JID or phone number. Resolve names to a JID first "
                "(search_contacts), or write the number with its country code."
            )
        return await self.writer.run(self.writer.writer.resolve_jid, jid)

    async def send_text(self, req: SendTextRequest) -> SendResponse:
        chat = await self.resolve(req.to)
        out = OutboundText(chat_jid=chat, text=req.text)
        if req.reply_to:
            quoted = self.reader.get_message(chat, req.reply_to)
            out.reply_to_id = quoted.id
            out.reply_to_sender = quoted.sender or self.transport.account_jid
            out.reply_to_text = quoted.text or quoted.caption
        action = OutboundAction(kind="text", chat_jid=chat, origin=req.origin, text=req.text)
        result = await self._deliver(action, lambda: self.transport.send_text(out))
        record = MessageRecord(
            id=result.id,
            chat_jid=chat,
            sender=None,
            content=req.text,
            timestamp=result.timestamp,
            is_from_me=True,
            reply_to_id=out.reply_to_id,
            reply_to_sender=out.reply_to_sender,
            is_auto_reply=req.origin == "auto_reply",
        )
        await self.writer.run(self.writer.writer.record_sent, record)
        return SendResponse(id=result.id, chat_jid=chat, timestamp=result.timestamp)
