"""An in-memory WhatsApp: the seeded network of `simulated.seed`, peers that answer, injection.

It implements the whole `Transport` protocol and reports its world through the same events a
real history sync produces (contacts, groups, history batches, reactions), so everything
downstream of the transport runs unchanged in tests, in the `--simulate` demo and in benchmarks.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.transport.protocol import (
    ConnectionEvent,
    ConnectionState,
    ContactsEvent,
    GroupEvent,
    HistoryEvent,
    MediaUnavailable,
    MessageEvent,
    NotConnected,
    OutboundMedia,
    OutboundText,
    PairingEvent,
    ReactionEvent,
    ReceiptEvent,
    SendResult,
    TransportEvent,
)
from bridge.transport.simulated.history import seed_events
from bridge.transport.simulated.seed import (
    DEFAULT_ACCOUNT_JID,
    Person,
    build_world,
    compose_reply,
    message_id,
    synthetic_history,
)
from store.clock import SYSTEM_CLOCK, utcnow
from store.errors import InvalidArgument
from store.jid import is_group, is_lid, is_user, normalize_jid, parse_address, phone_to_jid
from store.models import (
    ContactRecord,
    GroupParticipantRecord,
    GroupRecord,
    HistoryBatch,
    MessageRecord,
    ReceiptKind,
    ReceiptRecord,
)
from store.sync_state import SIMULATED_SEED

log = logging.getLogger(__name__)

# History batches waiting in the queue before the generator pauses: keeps a 1M-message
# simulated sync from sitting in memory all at once.
_HISTORY_BACKLOG = 2
# A peer stops answering after this many answers per session, so an auto-reply rule pointed at
# a simulated peer cannot ping-pong forever.
MAX_ANSWERS_PER_PEER = 25
_PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTVWXYZ"


def _utcnow() -> datetime:
    return utcnow(SYSTEM_CLOCK)


@dataclass(frozen=True)
class SentReaction:
    chat_jid: str
    message_id: str
    sender: str | None
    emoji: str


@dataclass(frozen=True)
class ReadMark:
    chat_jid: str
    message_ids: tuple[str, ...]
    sender: str | None


Sent = OutboundText | OutboundMedia | SentReaction


class SimulatedTransport:
    """A scriptable WhatsApp that is always paired (until `logout`) and answers like people do.

    Deterministic: two transports with the same seed and clock produce the same events.
    """

    name = "simulated"
    SEED_BATCH_SIZE = 100
    SYNTHETIC_BATCH_SIZE = 5000
    SLOW_BATCH_SIZE = 30  # with a chunk delay: ten seeded chunks instead of three

    def __init__(
        self,
        *,
        seed: int = 7,
        reply_delay: float = 1.5,
        history_messages: int = 0,
        history_chunk_delay: float = 0.0,
        account_jid: str = DEFAULT_ACCOUNT_JID,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if history_messages < 0:
            raise InvalidArgument("history_messages must be 0 or more.")
        self._seed = seed
        self._reply_delay = max(0.0, reply_delay)
        self._history_messages = history_messages
        self._history_chunk_delay = max(0.0, history_chunk_delay)
        self._seed_pending: list[TransportEvent] = []
        self._account_jid = normalize_jid(account_jid)
        self._clock = clock or _utcnow
        self.world = build_world(seed=seed, now=self._clock(), account_jid=self._account_jid)

        self._state = ConnectionState.disconnected
        self._paired = True
        self._queue: asyncio.Queue[TransportEvent] = asyncio.Queue()
        self._drained = asyncio.Event()
        # Live ids are new on every start: a restarted bridge must not reuse an id the store
        # already holds (the send would collide with a stored message and never appear).
        self._ids = random.Random(f"live/{seed}/{secrets.token_hex(8)}")
        self._media: dict[str, bytes] = dict(self.world.media)
        self._people: dict[str, Person] = {p.jid: p for p in self.world.people}
        self._lids: dict[str, str] = {p.lid: p.jid for p in self.world.people if p.lid}
        self._groups: set[str] = {g.jid for g in self.world.groups}
        self._answers: dict[str, int] = {}
        self._world_sent = False
        self._synthetic: Iterator[HistoryBatch] | None = None
        self._history_done = 0
        self._history_total = len(self.world.messages) + history_messages
        self._tasks: set[asyncio.Task[None]] = set()

        # What the bridge asked for, in order: for tests and the demo's transcript.
        self.sent: list[Sent] = []
        self.read_marks: list[ReadMark] = []
        self.typing: list[tuple[str, bool]] = []

    # ------------------------------------------------------------------ protocol: state

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def account_jid(self) -> str | None:
        return self._account_jid if self._paired else None

    def is_paired(self) -> bool:
        return self._paired

    async def start(self) -> None:
        if self._state in (ConnectionState.connected, ConnectionState.pairing):
            return
        self._set_state(ConnectionState.connecting)
        if not self._paired:
            self._set_state(ConnectionState.pairing)
            self._emit(
                PairingEvent(
                    code=None,
                    qr=f"2@simulated,{self._seed},{self._new_id()}",
                    expires_at=self._clock() + timedelta(seconds=60),
                )
            )
            return
        self._connect()

    async def stop(self) -> None:
        await self._cancel_tasks()
        if self._state not in (ConnectionState.disconnected, ConnectionState.logged_out):
            self._set_state(ConnectionState.disconnected)

    def events(self) -> AsyncIterator[TransportEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[TransportEvent]:
        while True:
            event = await self._queue.get()
            self._drained.set()
            yield event

    # ------------------------------------------------------------------ protocol: commands

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

    # ------------------------------------------------------------------ simulation entry points

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

    async def inject_event(self, event: TransportEvent) -> None:
        """Push any raw event into the stream (tests)."""
        self._emit(event)

    # ------------------------------------------------------------------ internals

    def _emit(self, event: TransportEvent) -> None:
        self._queue.put_nowait(event)

    def _set_state(self, state: ConnectionState, *, detail: str | None = None) -> None:
        self._state = state
        account = self._account_jid if state is ConnectionState.connected else None
        self._emit(ConnectionEvent(state=state, detail=detail, account_jid=account))

    def _require_connected(self) -> None:
        if self._state is not ConnectionState.connected:
            raise NotConnected(
                f"The simulated WhatsApp is not connected (state: {self._state.value})."
            )

    def _new_id(self) -> str:
        return message_id(self._ids)

    def _chat_of(self, jid: str) -> str:
        chat = normalize_jid(jid)
        return self._lids.get(chat, chat)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _connect(self) -> None:
        self._set_state(ConnectionState.connected)
        if not self._world_sent:
            # Like a first login: WhatsApp pushes contacts, groups and the history once.
            self._world_sent = True
            world = self.world
            self._emit(ContactsEvent(contacts=world.contacts))
            for group in world.groups:
                self._emit(GroupEvent(group=group))
            slow = self._history_chunk_delay > 0
            chunks = seed_events(
                world.chats,
                world.messages,
                self.SLOW_BATCH_SIZE if slow else self.SEED_BATCH_SIZE,
                total=self._history_total,
                newest_first=slow,
                final=slow and not self._history_messages,
            )
            if not slow:
                # The end-of-seed marker below closes an instant sync: no chunk before it may
                # say "done" (100) while reactions are still to come.
                chunks = [
                    c.model_copy(update={"progress": min(99, c.progress or 0)}) for c in chunks
                ]
            self._seed_pending = list(chunks)
            self._history_done += len(world.messages)
            self._seed_pending += [ReactionEvent(reaction=r) for r in world.reactions]
            # The seeded world is ready once this lands: a first read in simulate mode waits
            # for it (mcp_server/readiness.py) instead of answering from a half-written store.
            # A slow (chunked) sync marks it after its first chunk: the rest is reported as a
            # running sync, never waited for.
            marker = HistoryEvent(
                batch=HistoryBatch(),
                sync_type=SIMULATED_SEED,
                progress=None if slow else self._progress(),
                final=not slow and not self._history_messages,
            )
            self._seed_pending.insert(1 if slow else len(self._seed_pending), marker)
            if not slow:
                for event in self._seed_pending:
                    self._emit(event)
                self._seed_pending = []
            if self._history_messages:
                self._synthetic = synthetic_history(
                    self._history_messages,
                    seed=self._seed,
                    now=world.now - timedelta(days=31),
                    batch_size=self.SYNTHETIC_BATCH_SIZE,
                    account_jid=self._account_jid,
                )
        if self._seed_pending or self._synthetic is not None:
            self._spawn(self._feed_history())

    def _progress(self) -> int:
        return 100 * self._history_done // max(1, self._history_total)

    def _history_event(self, batch: HistoryBatch) -> HistoryEvent:
        self._history_done += len(batch.messages)
        # 100 only on the chunk that ends the sync, so "done" never precedes the last of it.
        progress = min(99, self._progress())
        if self._synthetic is not None and self._history_done >= self._history_total:
            return HistoryEvent(batch=batch, progress=100, sync_type="FULL", final=True)
        return HistoryEvent(
            batch=batch, progress=progress, sync_type="FULL" if self._synthetic else None
        )

    async def _feed_history(self) -> None:
        # The first chunk at once (tests and the demo wait for the seeded world to appear),
        # the rest spaced like a phone pushing history; a stop keeps what was not sent.
        first = True
        while self._seed_pending:
            event = self._seed_pending[0]
            if isinstance(event, HistoryEvent) and not first:
                await asyncio.sleep(self._history_chunk_delay)
            first = False
            self._emit(self._seed_pending.pop(0))
        if self._synthetic is not None:
            await self._feed_synthetic()

    async def _feed_synthetic(self) -> None:
        assert self._synthetic is not None
        for batch in self._synthetic:
            self._emit(self._history_event(batch))
            # Generation is CPU work: let the consumer catch up before making more.
            while self._queue.qsize() >= _HISTORY_BACKLOG:
                self._drained.clear()
                await self._drained.wait()
            await asyncio.sleep(0)
        self._synthetic = None
        log.info("simulated history sync done: %d messages", self._history_done)

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
