"""A long, deterministic, messy WhatsApp event stream, and a canonical dump of a store.

The stream is what a real account produces on a bad day: live messages and history batches that
overlap (the same message twice or three times), arrive out of order, address the same person
by phone JID or by `@lid` alias (the mapping learnt half-way through), placeholders later
replaced by the full message, edits and deletes that may come before their message, reactions
that are changed and removed, receipts, and plain re-deliveries of earlier events.

Everything is a pure function of the seed (no set iteration, no hash order), so a crash driver
and the checker that kills it build the same stream independently.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bridge.transport.protocol import (
    ContactsEvent,
    DeleteEvent,
    EditEvent,
    GroupEvent,
    HistoryEvent,
    MessageEvent,
    ReactionEvent,
    ReceiptEvent,
    TransportEvent,
)
from store.models import (
    ChatRecord,
    ContactRecord,
    DeleteRecord,
    EditRecord,
    GroupParticipantRecord,
    GroupRecord,
    HistoryBatch,
    MessageRecord,
    ReactionRecord,
    ReceiptKind,
    ReceiptRecord,
)

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
ME = "15550009999@s.whatsapp.net"
_WORDS = (
    "pizza friday dinner café naïve meeting tomorrow photos lunch train late ok thanks "
    "birthday cake 🎉 ❤️ school football rain umbrella project deadline coffee tea"
).split()
_EMOJI = ("👍", "❤️", "😂", "😮", "🙏", "")


@dataclass(frozen=True)
class Person:
    pn: str
    lid: str
    push_name: str
    saved_name: str | None


@dataclass
class Planned:
    """One message and how it reaches us."""

    rec: MessageRecord
    is_group: bool
    person: Person  # the direct chat's peer, or the sender in a group
    slots: list[int] = field(default_factory=list)


@dataclass
class Stream:
    people: list[Person]
    groups: list[str]
    messages: list[MessageRecord]
    events: list[TransportEvent]


def _people(rng: random.Random, n: int) -> list[Person]:
    out = []
    for i in range(n):
        saved = f"Friend {i}" if rng.random() < 0.7 else None
        out.append(
            Person(
                pn=f"1555{1000000 + i:07d}@s.whatsapp.net",
                lid=f"{90000000000000 + i * 7919}@lid",
                push_name=f"push{i}",
                saved_name=saved,
            )
        )
    return out


def build_stream(
    seed: int,
    n_messages: int = 2000,
    *,
    n_people: int = 24,
    n_groups: int = 4,
    max_batch: int = 300,
) -> Stream:
    rng = random.Random(seed)
    people = _people(rng, n_people)
    groups = [f"1203630000000{seed % 1000:03d}{g:02d}@g.us" for g in range(n_groups)]
    # Some people's @lid is learnt at some point of the stream, some never: both must end up
    # the same whatever the interruptions.
    lid_learnt_at = {
        p.pn: rng.randrange(n_messages + 1) if rng.random() < 0.75 else None for p in people
    }

    planned: list[Planned] = []
    ts = T0
    for i in range(n_messages):
        ts += timedelta(seconds=rng.randint(1, 120), milliseconds=rng.randint(0, 999))
        is_group = rng.random() < 0.3
        person = rng.choice(people)
        from_me = rng.random() < 0.15
        chat = rng.choice(groups) if is_group else person.pn
        sender = None if from_me else person.pn
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 8)))
        rec = MessageRecord(
            id=f"3EB0{seed:04d}{i:08X}",
            chat_jid=chat,
            sender=sender,
            sender_name=None if from_me else person.push_name,
            content=f"{text} #{i}",
            timestamp=ts,
            is_from_me=from_me,
        )
        slots: list[int] = []
        if rng.random() < 0.75:
            slots.append(i)  # live, on time
        if rng.random() < 0.5 or not slots:
            slots.append(max(0, i + rng.randint(-40, 400)))  # history, early or late
        if rng.random() < 0.1:
            slots.append(i + rng.randint(1, 200))  # a late re-delivery
        planned.append(Planned(rec, is_group, person, slots))

    # (slot, tiebreak, kind, payload): sorted once at the end.
    timeline: list[tuple[int, float, TransportEvent]] = []

    def at(slot: int, ev: TransportEvent) -> None:
        timeline.append((slot, rng.random(), ev))

    for g, gjid in enumerate(groups):
        members = rng.sample(people, k=min(6, len(people)))
        at(
            0,
            GroupEvent(
                group=GroupRecord(
                    jid=gjid,
                    name=f"Group {g}",
                    participants=[
                        GroupParticipantRecord(jid=p.pn, is_admin=(j == 0))
                        for j, p in enumerate(members)
                    ],
                )
            ),
        )
    at(0, ContactsEvent(contacts=[ContactRecord(jid=p.pn, push_name=p.push_name) for p in people]))
    for p in people:
        when = lid_learnt_at[p.pn]
        if when is not None:
            contact = ContactRecord(
                jid=p.pn, lid=p.lid, push_name=p.push_name, saved_name=p.saved_name
            )
            at(when, ContactsEvent(contacts=[contact]))

    history_slots: dict[int, list[MessageRecord]] = {}
    for n, pm in enumerate(planned):
        first = min(pm.slots)
        for k, slot in enumerate(sorted(pm.slots)):
            copy = _addressed(pm, rng)
            if k == 0 and rng.random() < 0.06:
                # Undecryptable at first: a placeholder now, the full copy later.
                at(slot, MessageEvent(message=_placeholder(copy)))
                history_slots.setdefault(slot + rng.randint(5, 300), []).append(copy)
                continue
            is_live = k == 0 and slot == n
            if is_live:
                contact = None
                if rng.random() < 0.5 and not pm.rec.is_from_me:
                    lid = pm.person.lid if copy.sender == pm.person.lid else None
                    contact = ContactRecord(
                        jid=pm.person.pn, lid=lid, push_name=pm.person.push_name
                    )
                at(slot, MessageEvent(message=copy, contact=contact))
            else:
                history_slots.setdefault(slot, []).append(copy)
        # Edits, deletes, reactions, receipts: anywhere around the message.
        if rng.random() < 0.07:
            for e in range(rng.randint(1, 2)):
                at(
                    max(0, first + rng.randint(-30, 150)),
                    EditEvent(
                        edit=EditRecord(
                            chat_jid=_chat_alias(pm, rng),
                            message_id=pm.rec.id,
                            content=f"edited {e} of #{n}",
                            timestamp=pm.rec.timestamp + timedelta(minutes=1 + e),
                        )
                    ),
                )
        if rng.random() < 0.03:
            at(
                max(0, first + rng.randint(-30, 150)),
                DeleteEvent(
                    delete=DeleteRecord(
                        chat_jid=_chat_alias(pm, rng),
                        message_id=pm.rec.id,
                        timestamp=pm.rec.timestamp + timedelta(minutes=5),
                    )
                ),
            )
        if rng.random() < 0.12:
            for r in range(rng.randint(1, 3)):
                reactor = rng.choice(people)
                at(
                    max(0, first + rng.randint(-10, 150)),
                    ReactionEvent(
                        reaction=ReactionRecord(
                            chat_jid=_chat_alias(pm, rng),
                            message_id=pm.rec.id,
                            sender=reactor.lid if rng.random() < 0.3 else reactor.pn,
                            emoji=rng.choice(_EMOJI),
                            timestamp=pm.rec.timestamp + timedelta(seconds=30 + r * 7),
                        )
                    ),
                )
        if pm.rec.is_from_me and rng.random() < 0.5:
            for j, kind in enumerate((ReceiptKind.delivered, ReceiptKind.read)):
                at(
                    first + 1 + j * rng.randint(0, 50),
                    ReceiptEvent(
                        receipt=ReceiptRecord(
                            chat_jid=pm.rec.chat_jid,
                            message_ids=[pm.rec.id],
                            sender=pm.person.pn,
                            kind=kind,
                            timestamp=pm.rec.timestamp + timedelta(seconds=5 + j),
                        )
                    ),
                )

    # History batches: messages due around the same slot travel together, shuffled, with the
    # chats and contacts a real history chunk carries.
    pending: list[MessageRecord] = []
    bucket_end = 0
    for slot in sorted(history_slots):
        pending.extend(history_slots[slot])
        if slot >= bucket_end or len(pending) >= max_batch:
            rng.shuffle(pending)
            at(slot, _history(pending, people, groups, rng))
            pending = []
            bucket_end = slot + rng.randint(20, 200)
    if pending:
        at(n_messages + 500, _history(pending, people, groups, rng))

    timeline.sort(key=lambda t: (t[0], t[1]))
    events = [ev for _, _, ev in timeline]
    # Plain re-deliveries of whole events (reconnects, retries), a little later.
    for _ in range(len(events) // 25):
        src = rng.randrange(len(events))
        events.insert(min(len(events), src + rng.randint(1, 60)), events[src])
    return Stream(people, groups, [pm.rec for pm in planned], events)


def _chat_alias(pm: Planned, rng: random.Random) -> str:
    if pm.is_group:
        return pm.rec.chat_jid
    return pm.person.lid if rng.random() < 0.3 else pm.person.pn


def _addressed(pm: Planned, rng: random.Random) -> MessageRecord:
    """The message as one delivery reports it: by phone JID or by the person's @lid."""
    if rng.random() >= 0.35:
        return pm.rec
    if pm.is_group:
        if pm.rec.sender is None:
            return pm.rec
        return pm.rec.model_copy(update={"sender": pm.person.lid})
    update: dict[str, object] = {"chat_jid": pm.person.lid}
    if pm.rec.sender is not None:
        update["sender"] = pm.person.lid
    return pm.rec.model_copy(update=update)


def _placeholder(rec: MessageRecord) -> MessageRecord:
    return rec.model_copy(update={"content": None, "is_placeholder": True})


def _history(
    messages: list[MessageRecord], people: list[Person], groups: list[str], rng: random.Random
) -> HistoryEvent:
    contacts = [
        ContactRecord(jid=p.pn, push_name=p.push_name, saved_name=p.saved_name)
        for p in rng.sample(people, k=min(3, len(people)))
    ]
    chats = [ChatRecord(jid=g, name=f"Group {groups.index(g)}", is_group=True) for g in groups]
    batch = HistoryBatch(chats=chats, contacts=contacts, messages=list(messages))
    return HistoryEvent(batch=batch, progress=None)


# ---------------------------------------------------------------- canonical dump

_DUMP_QUERIES = {
    "messages": (
        "SELECT chat_jid, id, sender, sender_name, content, timestamp, is_from_me, kind, caption, "
        "reply_to_id, reply_to_sender, mentions, edited, deleted, is_auto_reply, is_placeholder, "
        "status FROM messages ORDER BY chat_jid, id"
    ),
    "chats": (
        "SELECT c.jid, c.name, c.is_group, c.topic, c.unread_count, c.last_message_at, "
        "(SELECT m.id FROM messages m WHERE m.seq = c.last_message_seq) "
        "FROM chats c ORDER BY c.jid"
    ),
    "contacts": (
        "SELECT jid, phone, saved_name, push_name, business_name, lid FROM contacts ORDER BY jid"
    ),
    "group_participants": "SELECT * FROM group_participants ORDER BY group_jid, jid",
    "reactions": "SELECT * FROM reactions ORDER BY chat_jid, message_id, sender",
    "message_mutations": "SELECT * FROM message_mutations ORDER BY chat_jid, message_id, kind",
}


def canonical_dump(
    conn: sqlite3.Connection, *, unread: bool = True
) -> dict[str, list[tuple[object, ...]]]:
    """Everything a user can observe, without storage details (seq, updated_at)."""
    out = {name: [tuple(r) for r in conn.execute(sql)] for name, sql in _DUMP_QUERIES.items()}
    if not unread:
        out["chats"] = [r[:4] + r[5:] for r in out["chats"]]
    return out


def store_problems(conn: sqlite3.Connection) -> list[str]:
    """Physical and logical damage: page structure, FTS index, foreign keys, duplicates."""
    problems: list[str] = []
    ok = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if ok != ["ok"]:
        problems.append(f"integrity_check: {ok[:5]}")
    try:
        conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as exc:
        problems.append(f"fts integrity-check: {exc}")
    fks = conn.execute("PRAGMA foreign_key_check").fetchall()
    if fks:
        problems.append(f"foreign_key_check: {fks[:5]}")
    dups = duplicate_count(conn)
    if dups:
        problems.append(f"{dups} messages stored twice")
    unmerged = conn.execute(
        "SELECT count(*) FROM messages m JOIN contacts c ON c.lid = m.chat_jid"
    ).fetchone()[0]
    if unmerged:
        problems.append(f"{unmerged} messages left in a chat of an @lid whose phone is known")
    return problems


def duplicate_count(conn: sqlite3.Connection) -> int:
    """Messages stored more than once for one person. Ids are unique across chats in the
    generated stream, so one id twice under the same person (phone JID or a *known* @lid alias
    of it) is a duplicate. Under an @lid whose phone is not known yet, a second copy is
    expected: nobody can tell yet that it is the same person."""
    return int(
        conn.execute(
            """
            SELECT count(*) FROM (
                SELECT m.id FROM messages m LEFT JOIN contacts c ON c.lid = m.chat_jid
                GROUP BY m.id, coalesce(c.jid, m.chat_jid) HAVING count(*) > 1)
            """
        ).fetchone()[0]
    )
