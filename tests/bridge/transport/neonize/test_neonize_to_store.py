"""Real neonize protobufs → neonize's dispatch → NeonizeTransport → ingest → exact store rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest

from bridge.ingest.events import apply_event
from bridge.transport.neonize.client import NeonizeTransport
from store.db import open_writer
from store.writer import StoreWriter
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.neonize_factory import H

pytestmark = pytest.mark.anyio

ALICE_JID = f"{f.ALICE}@s.whatsapp.net"
BOB_JID = f"{f.BOB}@s.whatsapp.net"
GROUP_JID = f"{f.GROUP}@g.us"
T0 = 1_700_000_000_000  # ms


def live_events() -> list[Any]:
    return [
        f.message_ev(f.text("hello"), msg_id="M1", ts_ms=T0),
        f.message_ev(f.reply("pong", "M1", ALICE_JID), msg_id="M2", ts_ms=T0 + 1000, from_me=True),
        f.message_ev(f.image("sunset"), msg_id="M3", ts_ms=T0 + 2000),
        f.message_ev(f.voice(4), msg_id="M4", ts_ms=T0 + 3000),
        f.message_ev(f.reaction("M1", "❤️"), msg_id="M5", ts_ms=T0 + 4000),
        f.message_ev(f.edit("M1", "hello, edited"), msg_id="M6", edit="1", ts_ms=T0 + 5000),
        f.message_ev(f.revoke("M4"), msg_id="M7", edit="7", ts_ms=T0 + 6000),
        f.message_ev(
            f.text("hi group"),
            chat=f.GROUP,
            server="g.us",
            sender=f.BOB_LID,
            sender_server="lid",
            sender_alt=f.jid(f.BOB),
            push_name="Bob",
            msg_id="G1",
            ts_ms=T0 + 7000,
        ),
    ]


def history_chunk() -> Any:
    carol = "15553334444@s.whatsapp.net"
    return f.history(
        [
            H.Conversation(
                ID=ALICE_JID,
                messages=[f.web_message("H1", f.text("old news"), 1_600_000_000, remote=ALICE_JID)],
            ),
            H.Conversation(
                ID=carol,
                name="Carol",
                messages=[
                    f.web_message("H2", f.text("see you"), 1_600_000_100, remote=carol),
                    f.web_message("H3", f.text("bye"), 1_600_000_200, remote=carol, from_me=True),
                ],
            ),
            H.Conversation(
                ID=GROUP_JID,
                name="Team",
                messages=[
                    f.web_message(
                        "H4",
                        f.text("standup at 10"),
                        1_600_000_300,
                        remote=GROUP_JID,
                        participant=BOB_JID,
                    )
                ],
            ),
        ]
    )


async def pump(writer: StoreWriter, events: list[Any], tmp_path: Path) -> None:
    transport = NeonizeTransport(tmp_path / "session" / "wa.db")
    transport._prepare()  # real client + handlers; no network
    for ev in events:
        f.dispatch(transport._client, ev)
    got = 0
    with anyio.fail_after(10):
        async for event in transport.events():
            apply_event(writer, event)
            got += 1
            if got == len(events):
                break


def rows(conn: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(sql).fetchall()]


def counts(conn: sqlite3.Connection) -> tuple[int, ...]:
    return tuple(
        conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("messages", "chats", "contacts", "reactions")
    )


async def test_live_events_become_exact_rows(tmp_path: Path) -> None:
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)
    await pump(writer, live_events(), tmp_path)
    got = rows(
        conn,
        "SELECT id, chat_jid, sender, content, timestamp, is_from_me, kind, caption, "
        "reply_to_id, edited, deleted FROM messages ORDER BY timestamp",
    )
    assert got == [
        ("M1", ALICE_JID, ALICE_JID, "hello, edited", T0, 0, "text", None, None, 1, 0),
        ("M2", ALICE_JID, None, "pong", T0 + 1000, 1, "text", None, "M1", 0, 0),
        ("M3", ALICE_JID, ALICE_JID, None, T0 + 2000, 0, "image", "sunset", None, 0, 0),
        ("M4", ALICE_JID, ALICE_JID, None, T0 + 3000, 0, "voice", None, None, 0, 1),
        ("G1", GROUP_JID, BOB_JID, "hi group", T0 + 7000, 0, "text", None, None, 0, 0),
    ]
    media = rows(conn, "SELECT mime_type, media_json FROM messages WHERE id = 'M3'")[0]
    assert media[0] == "image/jpeg" and '"direct_path"' in media[1] and '"media_key"' in media[1]
    assert rows(conn, "SELECT chat_jid, message_id, sender, emoji FROM reactions") == [
        (ALICE_JID, "M1", ALICE_JID, "❤️")
    ]
    assert rows(conn, f"SELECT jid, lid, push_name FROM contacts WHERE jid = '{BOB_JID}'") == [
        (BOB_JID, f"{f.BOB_LID}@lid", "Bob")
    ]
    # One person is one chat: nothing is stored under the @lid identity.
    assert rows(conn, "SELECT count(*) FROM messages WHERE sender LIKE '%@lid'") == [(0,)]


async def test_history_chunk_with_three_conversations(tmp_path: Path) -> None:
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)
    await pump(writer, [history_chunk()], tmp_path)
    got = rows(
        conn,
        "SELECT id, chat_jid, sender, content, timestamp, is_from_me FROM messages "
        "ORDER BY timestamp",
    )
    carol = "15553334444@s.whatsapp.net"
    assert got == [
        ("H1", ALICE_JID, ALICE_JID, "old news", 1_600_000_000_000, 0),
        ("H2", carol, carol, "see you", 1_600_000_100_000, 0),
        ("H3", carol, None, "bye", 1_600_000_200_000, 1),
        ("H4", GROUP_JID, BOB_JID, "standup at 10", 1_600_000_300_000, 0),
    ]
    names = dict(rows(conn, "SELECT jid, name FROM chats WHERE name IS NOT NULL"))
    assert names[GROUP_JID] == "Team" and names[carol] == "Carol"


async def test_replaying_history_and_live_messages_changes_nothing(tmp_path: Path) -> None:
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)
    await pump(writer, [history_chunk(), *live_events()], tmp_path)
    before = counts(conn)
    snapshot = rows(conn, "SELECT * FROM messages ORDER BY seq")
    await pump(writer, [history_chunk(), history_chunk(), *live_events()], tmp_path)
    assert counts(conn) == before
    assert rows(conn, "SELECT * FROM messages ORDER BY seq") == snapshot
