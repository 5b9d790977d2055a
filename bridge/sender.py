"""The one send path. Every outbound action (tool, CLI, auto-reply) comes through here, and
nothing else in the code base calls a transport's send methods; a test checks that.
"""

from __future__ import annotations

import logging

from bridge.api import SendResponse, SendTextRequest
from bridge.transport import OutboundText, Transport, TransportError
from bridge.writer_thread import WriterThread
from store.errors import InvalidArgument
from store.jid import is_broadcast_or_newsletter, parse_address
from store.models import MessageRecord
from store.reader import StoreReader

log = logging.getLogger(__name__)


class SendRefused(Exception):
    """The send was refused before it reached WhatsApp; the message says why and what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Sender:
    def __init__(self, transport: Transport, writer: WriterThread, reader: StoreReader) -> None:
        self.transport = transport
        self.writer = writer
        self.reader = reader

    async def _recipient(self, to: str) -> str:
        jid = parse_address(to)
        if jid is None:
            raise InvalidArgument(
                f"{to!r} is not a JID or phone number. Resolve names to a JID first "
                "(search_contacts), or write the number with its country code."
            )
        jid = await self.writer.run(self.writer.writer.resolve_jid, jid)
        if is_broadcast_or_newsletter(jid):
            raise SendRefused(
                "recipient_not_allowed",
                f"Sending to {jid} (status/broadcast/newsletter) is not supported.",
            )
        return jid

    async def send_text(self, req: SendTextRequest) -> SendResponse:
        chat = await self._recipient(req.to)
        out = OutboundText(chat_jid=chat, text=req.text)
        if req.reply_to:
            quoted = self.reader.get_message(chat, req.reply_to)
            out.reply_to_id = quoted.id
            out.reply_to_sender = quoted.sender or self.transport.account_jid
            out.reply_to_text = quoted.text or quoted.caption
        try:
            result = await self.transport.send_text(out)
        except TransportError:
            log.warning("send to %s failed (origin=%s)", chat, req.origin)
            raise
        record = MessageRecord(
            id=result.id,
            chat_jid=chat,
            sender=self.transport.account_jid,
            content=req.text,
            timestamp=result.timestamp,
            is_from_me=True,
            reply_to_id=out.reply_to_id,
            reply_to_sender=out.reply_to_sender,
            is_auto_reply=req.origin == "auto_reply",
        )
        await self.writer.run(self.writer.writer.record_sent, record)
        return SendResponse(id=result.id, chat_jid=chat, timestamp=result.timestamp)
