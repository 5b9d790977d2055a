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

from bridge.control.models import (
    MarkReadRequest,
    MarkReadResponse,
    Origin,
    ReactRequest,
    ReactResponse,
    SendFileResponse,
    SendResponse,
    SendTextRequest,
)
from bridge.ingest.writer_thread import WriterThread
from bridge.send.gate import SendGate
from bridge.send.media_files import OutgoingFile
from bridge.transport.protocol import OutboundMedia, OutboundText, Transport, TransportError
from store.errors import InvalidArgument
from store.jid import is_group, is_lid, is_user, parse_address
from store.models import MediaInfo, MessageRecord, ReactionRecord
from store.reader import MAX_LIMIT, StoreReader

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
    # The quoted message's text a reply carries to the recipient's screen, and whether display
    # cleaning had to remove hidden characters from it (store/text.py).
    quote: str | None = None
    quote_had_hidden: bool = False
    size: int | None = None


class Sender:
    def __init__(
        self, transport: Transport, writer: WriterThread, reader: StoreReader, *, gate: SendGate
    ) -> None:
        self.transport = transport
        self.writer = writer
        self.reader = reader
        # Required: a Sender without its gate must not exist (bridge.send.gate builds it).
        self.gate = gate

    # ------------------------------------------------------------------ the gate

    async def _gate(self, action: OutboundAction) -> None:
        """Raise SendRefused when policy forbids `action` (rules: bridge/send/gate.py)."""
        refusal = await self.gate.check(action)
        if refusal is not None:
            raise SendRefused(refusal.code, refusal.message)

    async def _audit(
        self, action: OutboundAction, outcome: Outcome, detail: str | None, message_id: str | None
    ) -> None:
        """Record the attempt and its outcome in the store's send log (bridge/send/audit.py)."""
        await self.gate.record(action, outcome, detail, message_id)

    async def _deliver(self, action: OutboundAction, do: Callable[[], Awaitable[T]]) -> T:
        # One turn spans check → send → record, so concurrent sends cannot both pass a window.
        async with self.gate.turn(action):
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
            except Exception as exc:  # audited whatever it was, then re-raised unchanged
                await self._audit(action, "failed", f"{type(exc).__name__}: {exc}", None)
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

    def _address(
        self, chat: str, reply_to: str | None, out: OutboundText | OutboundMedia
    ) -> tuple[str | None, bool]:
        """What the protocol needs on a send into `chat`: the chat's disappearing timer and, for
        a reply, the quoted message as WhatsApp addressed it. Returns the quoted sender as the
        store keeps it, and whether the quote had hidden characters removed for display."""
        out.expiration = self.reader.chat_expiration(chat)
        if not reply_to:
            return None, False
        quoted = self.reader.get_message(chat, reply_to)
        out.reply_to_id = quoted.id
        out.reply_to_sender = (
            None if quoted.is_from_me else self.reader.wire_sender(chat, quoted.id)
        ) or self.transport.account_jid
        out.reply_to_text = quoted.text or quoted.caption
        return quoted.sender or self.transport.account_jid, quoted.hidden_characters_removed

    async def send_text(self, req: SendTextRequest) -> SendResponse:
        chat = await self.resolve(req.to)
        out = OutboundText(chat_jid=chat, text=req.text, mentions=_mentions(chat, req.mentions))
        stored_reply_sender, quote_had_hidden = self._address(chat, req.reply_to, out)
        action = OutboundAction(
            kind="text",
            chat_jid=chat,
            origin=req.origin,
            text=req.text,
            quote=out.reply_to_text,
            quote_had_hidden=quote_had_hidden,
        )
        result = await self._deliver(action, lambda: self.transport.send_text(out))
        record = MessageRecord(
            id=result.id,
            chat_jid=chat,
            sender=None,
            content=req.text,
            timestamp=result.timestamp,
            is_from_me=True,
            reply_to_id=out.reply_to_id,
            reply_to_sender=stored_reply_sender,
            mentions=out.mentions,
            is_auto_reply=req.origin == "auto_reply",
        )
        await self.writer.run(self.writer.writer.record_sent, record)
        return SendResponse(id=result.id, chat_jid=chat, timestamp=result.timestamp)

    async def send_media(
        self,
        to: str,
        file: OutgoingFile,
        *,
        caption: str | None = None,
        reply_to: str | None = None,
        origin: Origin = "tool",
    ) -> SendFileResponse:
        """Send an attachment already read from an allowed folder (see bridge.send.media_files)."""
        chat = await self.resolve(to)
        caption = caption.strip() if caption and caption.strip() else None
        out = OutboundMedia(
            chat_jid=chat,
            kind=file.kind,
            data=file.data,
            mime_type=file.mime_type,
            filename=file.filename,
            caption=caption,
        )
        reply_sender, quote_had_hidden = self._address(chat, reply_to, out)
        action = OutboundAction(
            kind="media",
            chat_jid=chat,
            origin=origin,
            text=caption,
            quote=out.reply_to_text,
            quote_had_hidden=quote_had_hidden,
            size=len(file.data),
        )
        result = await self._deliver(action, lambda: self.transport.send_media(out))
        record = MessageRecord(
            id=result.id,
            chat_jid=chat,
            sender=None,
            timestamp=result.timestamp,
            is_from_me=True,
            kind=file.kind,
            caption=caption,
            # The transport's copy carries the keys and path (download it again later).
            media=result.media
            or MediaInfo(
                mime_type=file.mime_type, filename=file.filename, file_size=len(file.data)
            ),
            reply_to_id=out.reply_to_id,
            reply_to_sender=reply_sender,
            is_auto_reply=origin == "auto_reply",
        )
        await self.writer.run(self.writer.writer.record_sent, record)
        return SendFileResponse(
            id=result.id,
            chat_jid=chat,
            timestamp=result.timestamp,
            kind=file.kind,
            mime_type=file.mime_type,
            size=len(file.data),
            filename=file.filename,
        )

    async def send_reaction(self, req: ReactRequest) -> ReactResponse:
        """React to a message with an emoji; "" removes my reaction."""
        chat = await self.resolve(req.chat)
        # Exactly one emoji grapheme (or "" to remove): the gate checks it (bridge/send/visible).
        emoji = req.emoji.strip()
        target = self.reader.get_message(chat, req.message_id)
        # The reaction key names the author as WhatsApp addressed them (an @lid in LID groups).
        author = None if target.is_from_me else self.reader.wire_sender(chat, target.id)
        action = OutboundAction(kind="reaction", chat_jid=chat, origin=req.origin, text=emoji)
        result = await self._deliver(
            action, lambda: self.transport.send_reaction(chat, target.id, author, emoji)
        )
        me = await self._account()
        await self.writer.run(
            self.writer.writer.apply_reaction,
            ReactionRecord(
                chat_jid=chat,
                message_id=target.id,
                sender=me,
                emoji=emoji,
                timestamp=result.timestamp,
            ),
        )
        return ReactResponse(chat_jid=chat, message_id=target.id, emoji=emoji, removed=not emoji)

    async def mark_read(self, req: MarkReadRequest) -> MarkReadResponse:
        """Send read receipts for a chat's unread messages (up to one, if given) and update the
        stored unread count. Only this explicit call marks anything read."""
        chat = await self.resolve(req.chat)
        view = self.reader.get_chat(chat)
        unread = max(view.unread_count, 0)
        # The newest inbound messages are the unread ones; with none counted, the newest one
        # still gets a receipt (the phone may think otherwise).
        wanted = max(unread, 1)
        page = self.reader.list_messages(
            chat_jid=chat, order="newest", limit=min(MAX_LIMIT, wanted + 50)
        )
        inbound = [m for m in page.items if not m.is_from_me][:wanted]
        remaining = 0
        if req.up_to_message_id:
            cutoff = self.reader.get_message(chat, req.up_to_message_id)
            newer = [m for m in inbound if (m.timestamp, m.id) > (cutoff.timestamp, cutoff.id)]
            remaining = min(len(newer), unread)
            inbound = [m for m in inbound if m not in newer]
        by_sender: dict[str | None, list[str]] = {}
        for m in inbound:
            if is_group(chat) and not m.sender:
                continue  # whatsmeow needs each group message's author
            # The receipt's participant must be the sender as addressed (an @lid in LID groups).
            wire = self.reader.wire_sender(chat, m.id) if is_group(chat) else None
            by_sender.setdefault(wire, []).append(m.id)

        async def do() -> None:
            # whatsmeow marks several ids in one receipt only when they share a sender.
            for sender, ids in by_sender.items():
                await self.transport.mark_read(chat, ids, sender)

        action = OutboundAction(kind="mark_read", chat_jid=chat, origin=req.origin)
        await self._deliver(action, do)
        await self.writer.run(self.writer.writer.set_unread_count, chat, remaining)
        marked = sum(len(ids) for ids in by_sender.values())
        return MarkReadResponse(chat_jid=chat, marked=marked, unread_count=remaining)

    async def set_typing(self, chat_jid: str, typing: bool, origin: Origin) -> None:
        """Typing presence in a chat ("composing" or "paused"); judged by the gate like a send."""
        chat = await self.resolve(chat_jid)
        action = OutboundAction(kind="typing", chat_jid=chat, origin=origin)
        await self._deliver(action, lambda: self.transport.set_typing(chat, typing))

    async def _account(self) -> str:
        me = self.transport.account_jid or await self.writer.run(
            self.writer.writer.get_kv, "account_jid"
        )
        if not me:
            raise InvalidArgument("The account is not known yet; wait until WhatsApp connects.")
        return me


def _mentions(chat: str, mentions: list[str]) -> list[str]:
    """Mentioned people as JIDs; mentions exist only in groups."""
    if not mentions:
        return []
    if not is_group(chat):
        raise InvalidArgument("@mentions work only in groups; this is a direct chat.")
    out: list[str] = []
    for raw in mentions:
        jid = parse_address(raw)
        if jid is None or not (is_user(jid) or is_lid(jid)):
            raise InvalidArgument(f"Mention {raw!r} is not a person's JID or phone number.")
        if jid not in out:
            out.append(jid)
    return out
