"""A crash-test subject: the bridge's real ingest path fed from a generated stream.

    python -m tests.reliability.ingest_driver --db messages.db --log committed.log --seed 3

Opens the store as the bridge does (`open_writer`: WAL, migrations), builds the seeded stream
of `tests.reliability.stream`, and applies it event by event with `bridge.ingest.events.apply_event`
on a real `StoreWriter`. After each event's transaction has committed it appends the event's
index to the commit log and fsyncs it, so the log is a lower bound of what the store must hold.

On start it resumes after the last logged index, re-delivering the last `--redeliver` events
first, as WhatsApp re-delivers what was in flight when a client died. When the stream is done
it logs `END`.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
from pathlib import Path

from bridge.ingest.events import apply_event
from bridge.transport.protocol import (
    ContactsEvent,
    DeleteEvent,
    EditEvent,
    HistoryEvent,
    MessageEvent,
    ReactionEvent,
    TransportEvent,
)
from store.db import open_writer
from store.models import to_ms
from store.writer import StoreWriter
from tests.reliability.stream import build_stream

END = "END"


def read_log(path: Path) -> tuple[list[int], bool]:
    """Committed indices, and whether the stream was finished. A torn last line is ignored."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        return [], False
    done = False
    out: list[int] = []
    for line in lines[:-1]:  # the last element is "" or a torn line
        if line == END:
            done = True
        elif line.isdigit():
            out.append(int(line))
    return out, done


def run(db: Path, log: Path, seed: int, n_messages: int, redeliver: int) -> None:
    stream = build_stream(seed, n_messages)
    committed, done = read_log(log)
    if done:
        return
    start = committed[-1] + 1 if committed else 0
    start = max(0, start - random.Random().randint(0, redeliver))
    writer = StoreWriter(open_writer(db))
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for i in range(start, len(stream.events)):
            apply_event(writer, stream.events[i])
            os.write(fd, f"{i}\n".encode())
            os.fsync(fd)
        os.write(fd, f"{END}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def missing_committed(
    conn: sqlite3.Connection, events: list[TransportEvent], committed: list[int]
) -> list[str]:
    """Events in the commit log whose effect is not in the store (should be empty)."""
    rows = conn.execute("SELECT chat_jid, id, is_placeholder, edited, deleted FROM messages")
    msgs = {r[1]: (r[0], r[2], r[3], r[4]) for r in rows}
    lid_of = dict(conn.execute("SELECT jid, lid FROM contacts WHERE lid IS NOT NULL").fetchall())
    pn_of = {lid: pn for pn, lid in lid_of.items()}
    muts: dict[tuple[str, str, str], int] = {}
    for chat, mid, kind, ts in conn.execute(
        "SELECT chat_jid, message_id, kind, timestamp FROM message_mutations"
    ):
        muts[(chat, mid, kind)] = ts
    reacts: dict[tuple[str, str], int] = {}
    for mid, sender, ts in conn.execute("SELECT message_id, sender, timestamp FROM reactions"):
        reacts[(mid, sender)] = max(ts, reacts.get((mid, sender), ts))
    problems: list[str] = []

    def has_message(mid: str, placeholder: bool, where: str) -> None:
        got = msgs.get(mid)
        if got is None:
            problems.append(f"{where}: message {mid} missing")
        elif not placeholder and got[1]:
            problems.append(f"{where}: message {mid} still a placeholder")

    for i in sorted(set(committed)):
        ev = events[i]
        where = f"event {i} ({ev.type})"
        if isinstance(ev, MessageEvent):
            has_message(ev.message.id, ev.message.is_placeholder, where)
        elif isinstance(ev, HistoryEvent):
            for m in ev.batch.messages:
                has_message(m.id, m.is_placeholder, where)
        elif isinstance(ev, ContactsEvent):
            for c in ev.contacts:
                if c.lid and lid_of.get(c.jid) != c.lid:
                    problems.append(f"{where}: {c.jid} lost its @lid {c.lid}")
        elif isinstance(ev, ReactionEvent):
            r = ev.reaction
            sender = pn_of.get(r.sender, r.sender)
            ts = reacts.get((r.message_id, sender))
            if ts is None or ts < to_ms(r.timestamp):
                problems.append(f"{where}: reaction of {sender} on {r.message_id} missing")
        elif isinstance(ev, EditEvent | DeleteEvent):
            rec = ev.edit if isinstance(ev, EditEvent) else ev.delete
            kind = "edit" if isinstance(ev, EditEvent) else "delete"
            chat = pn_of.get(rec.chat_jid, rec.chat_jid)
            ts = muts.get((chat, rec.message_id, kind))
            if ts is None or ts < to_ms(rec.timestamp):
                problems.append(f"{where}: {kind} of {rec.message_id} missing")
            got = msgs.get(rec.message_id)
            # Applied once the message is stored in the chat the mutation names (an unknown
            # @lid alias keeps them apart until the mapping is learnt).
            if got is not None and got[0] == chat and not got[2 if kind == "edit" else 3]:
                problems.append(f"{where}: {kind} not applied to stored {rec.message_id}")
    return problems


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--log", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--redeliver", type=int, default=3)
    a = p.parse_args()
    run(a.db, a.log, a.seed, a.messages, a.redeliver)


if __name__ == "__main__":
    main()
