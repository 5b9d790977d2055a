"""A deterministic, seeded WhatsApp network for the simulated transport.

Two things live here:

- `build_world(seed=…, now=…)`: a small, hand-written social network (friends, family, a landlord,
  a dentist, colleagues, a football group) with about 300 messages over the last 30 days, media
  with real bytes, replies, reactions and unread counts. Enough for a demo and for tests that
  search for "dinner", "rent", "dentist" or "café".
- `synthetic_history(n, seed=…, now=…)`: any number of extra messages over many synthetic chats,
  with Zipf-distributed words, streamed as `HistoryBatch`es. The benchmarks use it directly.

Everything is a pure function of the seed and the `now` anchor: no wall clock, no global RNG.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bridge.transport.simulated.cast import (
    _BY_KEY,
    DEFAULT_ACCOUNT_JID,
    FAMILY_GROUP,
    FOOTBALL_GROUP,
    GROUPS,
    ME,
    PEOPLE,
    Person,
    message_id,
)
from bridge.transport.simulated.media_bytes import tiny_ogg_opus, tiny_pdf, tiny_png
from bridge.transport.simulated.synthetic import (
    compose_reply,
    synthetic_chat_count,
    synthetic_history,
    zipf_vocabulary,
)
from bridge.transport.simulated.threads import (
    _DIRECT_FILLER_KEYS,
    _GROUP_CHATTER,
    _SMALL_TALK,
    SEED_MESSAGE_TARGET,
    THREADS,
    _Line,
)
from store.models import (
    ChatRecord,
    ContactRecord,
    GroupParticipantRecord,
    GroupRecord,
    HistoryBatch,
    MediaInfo,
    MessageKind,
    MessageRecord,
    ReactionRecord,
    utc,
)

__all__ = [
    "DEFAULT_ACCOUNT_JID",
    "FAMILY_GROUP",
    "FOOTBALL_GROUP",
    "GROUPS",
    "ME",
    "PEOPLE",
    "Person",
    "THREADS",
    "compose_reply",
    "message_id",
    "synthetic_chat_count",
    "synthetic_history",
    "zipf_vocabulary",
    "SeedWorld",
    "build_world",
]


# ------------------------------------------------------------------------------ the world


@dataclass
class SeedWorld:
    """The seeded network: what the transport reports as contacts, groups and history."""

    account_jid: str
    now: datetime
    people: list[Person]
    contacts: list[ContactRecord]
    groups: list[GroupRecord]
    chats: list[ChatRecord]
    messages: list[MessageRecord]  # oldest first
    reactions: list[ReactionRecord]
    media: dict[str, bytes] = field(default_factory=dict)  # message id → attachment bytes

    def history_batches(self, batch_size: int) -> list[HistoryBatch]:
        """The messages in chronological batches, each with the records of the chats it touches."""
        chats = {c.jid: c for c in self.chats}
        batches = []
        for start in range(0, len(self.messages), batch_size):
            chunk = self.messages[start : start + batch_size]
            touched = dict.fromkeys(m.chat_jid for m in chunk)
            batches.append(HistoryBatch(chats=[chats[j] for j in touched], messages=chunk))
        return batches


class _WorldBuilder:
    def __init__(self, seed: int, now: datetime, account_jid: str) -> None:
        self.rng = random.Random(f"world/{seed}")
        self.now = utc(now).replace(microsecond=0)
        self.account_jid = account_jid
        self.messages: list[MessageRecord] = []
        self.reactions: list[ReactionRecord] = []
        self.media: dict[str, bytes] = {}

    def jid_of(self, who: str) -> str:
        return self.account_jid if who == ME else _BY_KEY[who].jid

    def sender_of(self, who: str, chat: str) -> str:
        # In the football group Sofía appears under her LID, as WhatsApp's LID groups do.
        person = None if who == ME else _BY_KEY[who]
        if person is not None and person.lid and chat == FOOTBALL_GROUP:
            return person.lid
        return self.jid_of(who)

    def start_of(self, days_ago: int, hour: float) -> datetime:
        if days_ago == 0:
            return self.now - timedelta(hours=hour)
        midnight = self.now.replace(hour=0, minute=0, second=0)
        return midnight - timedelta(days=days_ago) + timedelta(hours=hour)

    def media_for(self, line: _Line, mid: str) -> MediaInfo:
        if line.kind is MessageKind.image:
            width, height = 64, 48
            rgb = (
                self.rng.randrange(60, 256),
                self.rng.randrange(60, 256),
                self.rng.randrange(256),
            )
            data, mime = tiny_png(width, height, rgb), "image/png"
        elif line.kind is MessageKind.document:
            width = height = None
            data = tiny_pdf(line.filename or "Document", line.text)
            mime = "application/pdf"
        else:
            width = height = None
            data = tiny_ogg_opus(line.seconds or 1, serial=self.rng.getrandbits(32))
            mime = "audio/ogg; codecs=opus"
        self.media[mid] = data
        return MediaInfo(
            mime_type=mime,
            filename=line.filename if line.kind is MessageKind.document else None,
            file_size=len(data),
            seconds=line.seconds,
            width=width,
            height=height,
            direct_path=f"/v/t62.7118-24/sim/{mid}",
            media_key=base64.b64encode(self.rng.randbytes(32)).decode(),
            file_sha256=base64.b64encode(hashlib.sha256(data).digest()).decode(),
        )

    def add_thread(self, chat: str, start: datetime, lines: tuple[_Line, ...]) -> None:
        ids: list[str] = []
        senders: list[str] = []
        ts = start.replace(second=self.rng.randrange(60), microsecond=0)
        for line in lines:
            mid = message_id(self.rng)
            sender = self.sender_of(line.who, chat)
            quoted = line.reply
            is_media = line.kind is not MessageKind.text
            record = MessageRecord(
                id=mid,
                chat_jid=chat,
                sender=sender,
                sender_name=None if line.who == ME else _BY_KEY[line.who].push_name,
                content=None if is_media else line.text,
                is_from_me=line.who == ME,
                kind=line.kind,
                caption=(line.text or None) if is_media else None,
                media=self.media_for(line, mid) if is_media else None,
                reply_to_id=ids[quoted] if quoted is not None else None,
                reply_to_sender=senders[quoted] if quoted is not None else None,
                timestamp=ts,
            )
            self.messages.append(record)
            if line.react:
                who, emoji = line.react
                self.reactions.append(
                    ReactionRecord(
                        chat_jid=chat,
                        message_id=mid,
                        sender=self.jid_of(who),
                        emoji=emoji,
                        timestamp=ts + timedelta(minutes=self.rng.randint(1, 30)),
                    )
                )
            ids.append(mid)
            senders.append(sender)
            ts += timedelta(seconds=self.rng.randint(20, 420))

    def add_filler(self) -> None:
        """Small talk on days 4–29 (never the last days, so scripted unread counts hold)."""
        group_jids = list(_GROUP_CHATTER)
        while len(self.messages) < SEED_MESSAGE_TARGET:
            day, hour = self.rng.randint(4, 29), self.rng.uniform(8, 22)
            if self.rng.random() < 0.25:
                chat = self.rng.choice(group_jids)
                members = [m[0] for m in next(g for g in GROUPS if g.jid == chat).members]
                lines = tuple(
                    _Line(self.rng.choice(members), self.rng.choice(_GROUP_CHATTER[chat]))
                    for _ in range(self.rng.randint(1, 3))
                )
            else:
                key = self.rng.choice(_DIRECT_FILLER_KEYS)
                chat = _BY_KEY[key].jid
                opener, answer = self.rng.choice(_SMALL_TALK)
                first, second = (key, ME) if self.rng.random() < 0.6 else (ME, key)
                quote = 0 if self.rng.random() < 0.15 else None
                lines = (_Line(first, opener), _Line(second, answer, reply=quote))
            self.add_thread(chat, self.start_of(day, hour), lines)

    def chats(self) -> list[ChatRecord]:
        by_chat: dict[str, list[MessageRecord]] = {}
        for m in self.messages:
            by_chat.setdefault(m.chat_jid, []).append(m)
        groups = {g.jid: g for g in GROUPS}
        people = {p.jid: p for p in PEOPLE}
        out = []
        for jid, msgs in by_chat.items():
            # Unread: what the peer wrote after my last message, if it is recent (I would have
            # opened an older chat by now).
            unread = 0
            if self.now - msgs[-1].timestamp < timedelta(days=3):
                unread = len(list(itertools.takewhile(lambda m: not m.is_from_me, reversed(msgs))))
            group = groups.get(jid)
            out.append(
                ChatRecord(
                    jid=jid,
                    name=group.name if group else people[jid].saved_name,
                    is_group=group is not None,
                    unread_count=unread,
                    last_message_at=msgs[-1].timestamp,
                    topic=group.topic if group else None,
                )
            )
        return out


def build_world(*, seed: int, now: datetime, account_jid: str = DEFAULT_ACCOUNT_JID) -> SeedWorld:
    """The seeded network as of `now`: the same seed and `now` always give the same world."""
    b = _WorldBuilder(seed, now, account_jid)
    for thread in THREADS:
        chat = thread.chat if "@" in thread.chat else _BY_KEY[thread.chat].jid
        b.add_thread(chat, b.start_of(thread.days_ago, thread.hour), thread.lines)
    b.add_filler()
    b.messages.sort(key=lambda m: m.timestamp)
    groups = [
        GroupRecord(
            jid=g.jid,
            name=g.name,
            topic=g.topic,
            participants=[
                GroupParticipantRecord(
                    jid=b.jid_of(key),
                    lid=None if key == ME else _BY_KEY[key].lid,
                    is_admin=admin,
                    is_super_admin=super_admin,
                    display_name=None if key == ME else _BY_KEY[key].push_name,
                )
                for key, admin, super_admin in g.members
            ],
        )
        for g in GROUPS
    ]
    return SeedWorld(
        account_jid=account_jid,
        now=b.now,
        people=list(PEOPLE),
        contacts=[p.contact() for p in PEOPLE],
        groups=groups,
        chats=b.chats(),
        messages=b.messages,
        reactions=sorted(b.reactions, key=lambda r: r.timestamp),
        media=b.media,
    )
