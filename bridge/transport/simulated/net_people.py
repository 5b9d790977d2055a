"""Sends, receipts, downloads, pairing, and simulated people who write and answer."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from bridge.transport.protocol import (
    ConnectionState,
    GroupEvent,
    MediaUnavailable,
    MessageEvent,
    OutboundMedia,
    OutboundText,
    PairingEvent,
    ReceiptEvent,
    SendResult,
)
from bridge.transport.simulated.net_base import (
    _PAIRING_ALPHABET,
    MAX_ANSWERS_PER_PEER,
    ReadMark,
    SentReaction,
    log,
)
from bridge.transport.simulated.net_history import SimulatedHistory
from bridge.transport.simulated.seed import (
    Person,
    compose_reply,
)
from store.errors import InvalidArgument
from store.jid import is_group, is_lid, is_user, parse_address, phone_to_jid
from store.models import (
    ContactRecord,
    GroupParticipantRecord,
    GroupRecord,
    MessageRecord,
    ReceiptKind,
    ReceiptRecord,
)


class SimulatedPeople(SimulatedHistory):
    async def send_text(self, message: OutboundText) -> SendResult:
        self._require_connected()
        chat = self._chat_of(message.chat_jid)
        if not message.text.strip():
            raise InvalidArgument("The message text is empty.")
        self.sent.append(message)
        result = SendResult(id=self._new_id(), timestamp=self._clock())
        self._maybe_answer(chat, result.id, message.text)
        return result

    async def send_media(self, media: OutboundMedia) -> SendResult:
        self._require_connected()
        chat = self._chat_of(media.chat_jid)
        if not media.data:
            raise InvalidArgument("The attachment is empty.")
        self.sent.append(media)
        result = SendResult(id=self._new_id(), timestamp=self._clock())
        self._media[result.id] = media.data
        self._maybe_answer(chat, result.id, media.caption or f"the {media.kind.value}")
        return result

    async def send_reaction(
        self, chat_jid: str, message_id: str, sender: str | None, emoji: str
    ) -> SendResult:
        self._require_connected()
        self.sent.append(SentReaction(self._chat_of(chat_jid), message_id, sender, emoji))
        return SendResult(id=self._new_id(), timestamp=self._clock())

    async def mark_read(self, chat_jid: str, message_ids: list[str], sender: str | None) -> None:
        self._require_connected()
        self.read_marks.append(ReadMark(self._chat_of(chat_jid), tuple(message_ids), sender))

    async def set_typing(self, chat_jid: str, typing: bool) -> None:
        self._require_connected()
        self.typing.append((self._chat_of(chat_jid), typing))

    async def download_media(
        self, chat_jid: str, message_id: str, media: dict[str, object]
    ) -> bytes:
        data = self._media.get(message_id)
        if data is None:
            raise MediaUnavailable(
                f"media expired for message {message_id} in {chat_jid}: the simulated WhatsApp "
                "servers and phone no longer have it. Ask the sender to send it again."
            )
        return data

    async def pair_phone(self, phone: str) -> str:
        digits = phone_to_jid(phone).split("@", 1)[0]
        rng = random.Random(f"pair/{self._seed}/{digits}")
        raw = "".join(rng.choice(_PAIRING_ALPHABET) for _ in range(8))
        code = f"{raw[:4]}-{raw[4:]}"
        self._emit(
            PairingEvent(qr=None, code=code, expires_at=self._clock() + timedelta(minutes=3))
        )
        if not self._paired:
            # The simulated person types the code on their phone after a moment.
            self._spawn(self._complete_pairing())
        return code

    async def logout(self) -> None:
        await self._cancel_tasks()
        self._paired = False
        self._set_state(ConnectionState.logged_out, detail="Logged out of the simulated phone.")

    async def inject_inbound(
        self,
        sender: str,
        text: str,
        chat: str | None = None,
        *,
        push_name: str | None = None,
        from_me: bool = False,
        message_id: str | None = None,
    ) -> MessageRecord:
        """Deliver a message as if `sender` (a phone number or JID) wrote it, in `chat`.

        `chat` defaults to the sender's direct chat; a group JID makes it a group message, and a
        group nobody knows yet becomes a new group that `sender` created with the user as a plain
        member (how a stranger pulls someone into a group). A number nobody knows becomes a new,
        unsaved contact with `push_name`. `from_me` makes it a message the user typed on their
        phone into that chat (`sender` then names the chat partner or the group's creator).
        """
        self._require_connected()
        if not text or not text.strip():
            raise InvalidArgument("The message text is empty.")
        sender_jid = parse_address(sender)
        if sender_jid is None:
            raise InvalidArgument(
                f"{sender!r} is not a phone number or a WhatsApp JID: write a number with its "
                "country code, like +15551234567, or a JID like 15551234567@s.whatsapp.net."
            )
        if not (is_user(sender_jid) or is_lid(sender_jid)):
            raise InvalidArgument(f"{sender!r} is not a person: a message needs a person's number.")
        if sender_jid == self._account_jid:
            raise InvalidArgument("Inbound messages cannot come from the account itself.")
        # A known LID stays the message's sender (as WhatsApp reports it); the chat is the phone's.
        person_jid = self._lids.get(sender_jid, sender_jid)
        chat_jid = person_jid
        if chat is not None:
            chat_jid = parse_address(chat) or ""
            if not (is_group(chat_jid) or chat_jid == person_jid):
                raise InvalidArgument(
                    f"{chat!r} is not a group or the sender's own chat: a direct message can only "
                    "arrive in the chat with its sender."
                )

        if is_group(chat_jid) and chat_jid not in self._groups:
            self._groups.add(chat_jid)
            self._emit(GroupEvent(group=self._stranger_group(chat_jid, person_jid)))
        person = self._people.get(person_jid)
        if person is None:
            phone = person_jid.split("@", 1)[0]
            person = Person(key=person_jid, phone=phone, push_name=push_name or "", answers=False)
            self._people[person_jid] = person
        name = push_name or person.push_name or None
        record = MessageRecord(
            id=message_id or self._new_id(),
            chat_jid=chat_jid,
            sender=None if from_me else sender_jid,
            sender_name=None if from_me else name,
            content=text,
            timestamp=self._clock(),
            is_from_me=from_me,
        )
        contact = ContactRecord(
            jid=person_jid,
            lid=sender_jid if is_lid(sender_jid) and person_jid != sender_jid else None,
            push_name=name,
        )
        self._emit(MessageEvent(message=record, contact=contact))
        return record

    def _stranger_group(self, group_jid: str, creator: str) -> GroupRecord:
        """A group `creator` made and added the user to: no name, the user a plain member."""
        return GroupRecord(
            jid=group_jid,
            owner=creator,
            participants=[
                GroupParticipantRecord(jid=creator, is_admin=True, is_super_admin=True),
                GroupParticipantRecord(jid=self._account_jid),
            ],
        )

    def _maybe_answer(self, chat: str, sent_id: str, text: str) -> None:
        person = self._people.get(chat)
        if person is None or not person.answers:
            return  # unknown chats and groups take the message silently
        self._spawn(self._answer(person, sent_id, text))

    async def _answer(self, person: Person, sent_id: str, text: str) -> None:
        step = self._reply_delay / 3
        for kind in (ReceiptKind.delivered, ReceiptKind.read):
            await asyncio.sleep(step)
            receipt = ReceiptRecord(
                chat_jid=person.jid,
                message_ids=[sent_id],
                sender=person.jid,
                kind=kind,
                timestamp=self._clock(),
            )
            self._emit(ReceiptEvent(receipt=receipt))
        count = self._answers.get(person.jid, 0)
        if count >= MAX_ANSWERS_PER_PEER:
            log.info("simulated peer %s stops answering (%d answers)", person.jid, count)
            return
        self._answers[person.jid] = count + 1
        await asyncio.sleep(step)
        reply = MessageRecord(
            id=self._new_id(),
            chat_jid=person.jid,
            sender=person.jid,
            sender_name=person.push_name,
            content=compose_reply(person, text, count),
            timestamp=self._clock(),
        )
        contact = ContactRecord(jid=person.jid, push_name=person.push_name)
        self._emit(MessageEvent(message=reply, contact=contact))

    async def _complete_pairing(self) -> None:
        await asyncio.sleep(self._reply_delay)
        self._paired = True
        self._connect()
