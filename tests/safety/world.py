"""A small store of people the send policy must tell apart, and a bridge-like send stack over
it (real SQLite file, real StoreWriter/WriterThread, the real Sender and gate, SimulatedTransport
at the WhatsApp edge) that can be torn down and rebuilt from the same file: a bridge restart."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bridge.ingest.writer_thread import WriterThread
from bridge.send.gate import SendGate
from bridge.send.policy import PolicyConfig, parse_recipients
from bridge.send.ratelimit import RateLimits
from bridge.send.sender import Sender
from bridge.transport.simulated.network import SimulatedTransport
from store.audit import SendLogStore
from store.db import open_reader, open_writer
from store.models import ChatRecord, ContactRecord, MessageRecord
from store.reader import StoreReader
from store.writer import StoreWriter

ME = "15550000000@s.whatsapp.net"
SAVED = "15551110001@s.whatsapp.net"
SAVED_LID = "900000000001@lid"
WROTE = "15551110002@s.whatsapp.net"  # unsaved, has written to me
STRANGER = "15551110003@s.whatsapp.net"  # unsaved, never wrote (the attacker's number)
ALLOWED = "15551110004@s.whatsapp.net"  # a stranger listed in ALLOWED_RECIPIENTS
BLOCKED = "15551110005@s.whatsapp.net"  # saved, but listed (by its @lid) in BLOCKED_RECIPIENTS
BLOCKED_LID = "900000000005@lid"
GROUP = "120363000000000001@g.us"
WROTE_IN_GROUP = "15551110006@s.whatsapp.net"  # wrote only inside the group

ALLOWED_SETTING = "+1 (555) 111-0004"
BLOCKED_SETTING = BLOCKED_LID

# Every form a tool may address each person by; the canonical chat is the key.
ADDRESS_FORMS: dict[str, list[str]] = {
    SAVED: [SAVED, "+1 555 111 0001", SAVED_LID, "15551110001:3@s.whatsapp.net"],
    WROTE: [WROTE, "+15551110002"],
    STRANGER: [STRANGER, "+1 555 111 0003"],
    ALLOWED: [ALLOWED, ALLOWED_SETTING],
    BLOCKED: [BLOCKED, "+15551110005", BLOCKED_LID],
    GROUP: [GROUP],
    WROTE_IN_GROUP: [WROTE_IN_GROUP],
    ME: [ME],
}


def expected_allowed(policy: str, chat: str) -> bool:
    """The policy as a table, written independently of bridge/send/policy.py."""
    if chat == BLOCKED:
        return False
    if chat in (ALLOWED, ME):
        return True
    table = {
        "contacts": {SAVED, GROUP},
        "known": {SAVED, GROUP, WROTE},
        "any": {SAVED, GROUP, WROTE, STRANGER, WROTE_IN_GROUP},
    }
    return chat in table[policy]


def seed_store(path: Path) -> None:
    conn = open_writer(path)
    w = StoreWriter(conn)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    w.upsert_contacts(
        [
            ContactRecord(jid=SAVED, lid=SAVED_LID, saved_name="Sam Saved"),
            ContactRecord(jid=WROTE, push_name="Wren"),
            ContactRecord(jid=BLOCKED, lid=BLOCKED_LID, saved_name="Bo Blocked"),
            ContactRecord(jid=WROTE_IN_GROUP, push_name="Gil"),
        ]
    )
    w.upsert_chat(ChatRecord(jid=GROUP, name="Team", is_group=True))
    w.ingest_message(
        MessageRecord(id="IN1", chat_jid=WROTE, sender=WROTE, content="hi there", timestamp=t)
    )
    w.ingest_message(
        MessageRecord(id="IN2", chat_jid=GROUP, sender=WROTE_IN_GROUP, content="yo", timestamp=t)
    )
    w.ingest_message(
        MessageRecord(id="OUT1", chat_jid=SAVED, content="hello", is_from_me=True, timestamp=t)
    )
    # The user wrote in the group from their phone (not in the send log): their consent to it.
    w.ingest_message(
        MessageRecord(
            id="OUT2", chat_jid=GROUP, content="count me in", is_from_me=True, timestamp=t
        )
    )
    conn.close()


class SimClock:
    """Seconds that move only when the test (or a spacing wait) moves them."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Stack:
    """One 'bridge process' over the store file."""

    sender: Sender
    gate: SendGate
    writer: WriterThread
    log: SendLogStore
    _conns: list[object]

    def close(self) -> None:
        self.writer.close()
        self.log.close()
        for conn in self._conns:
            conn.close()  # type: ignore[attr-defined]


def open_stack(
    path: Path,
    transport: SimulatedTransport,
    clock: SimClock,
    *,
    policy: str = "contacts",
    limits: RateLimits | None = None,
    read_only: bool = False,
    rng: random.Random | None = None,
) -> Stack:
    conn = open_writer(path)
    writer = WriterThread(StoreWriter(conn))
    rconn = open_reader(path)
    log = SendLogStore.open(path)
    config = PolicyConfig(
        policy=policy,  # type: ignore[arg-type]
        allowed=parse_recipients(ALLOWED_SETTING),
        blocked=parse_recipients(BLOCKED_SETTING),
        read_only=read_only,
    )
    gate = SendGate(
        log,
        config,
        limits or RateLimits(),
        resolve=writer.writer.resolve_jid,
        self_jid=lambda: transport.account_jid,
        runner=writer,
        clock=clock,
        rng=rng,
    )
    sender = Sender(transport, writer, StoreReader(rconn), gate=gate)
    return Stack(sender, gate, writer, log, [conn, rconn])
