"""Real traffic's message kinds, through neonize's dispatch into the store: exact rows and unread
counts. Kinds as whatsmeow and mautrix classify them (neonize-real-behaviour.md #6, #7, #10)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from bridge.ingest.events import apply_event
from bridge.transport.neonize.client import NeonizeTransport
from bridge.transport.protocol import MessageEvent
from store import sync_state
from store.db import open_writer
from store.writer import StoreWriter
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.neonize_factory import E, H, MessageKey, N, W

pytestmark = pytest.mark.anyio

ALICE_JID = f"{f.ALICE}@s.whatsapp.net"
GROUP_JID = f"{f.GROUP}@g.us"
T0 = 1_700_000_000_000
KEY = MessageKey(remoteJID=ALICE_JID, fromMe=False, ID="M1")
ASSOC = E.MessageAssociation.AssociationType


async def pump(writer: StoreWriter, events: list[Any], tmp_path: Path) -> None:
    """Dispatch, then a marker message; ingest everything up to the marker."""
    transport = NeonizeTransport(tmp_path / "session" / "wa.db")
    transport._prepare()  # real client + handlers; no network
    for ev in [*events, f.message_ev(f.text("end"), msg_id="END", chat="15550009999")]:
        f.dispatch(transport._client, ev)
    with anyio.fail_after(10):
        async for event in transport.events():
            if isinstance(event, MessageEvent) and event.message.id == "END":
                return
            apply_event(writer, event)


def rows(conn: sqlite3.Connection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(sql, args).fetchall()]


def unread(conn: sqlite3.Connection, chat: str) -> int:
    return int(conn.execute("SELECT unread_count FROM chats WHERE jid = ?", (chat,)).fetchone()[0])


def ignored_kinds() -> list[E.Message]:
    enc = {"encPayload": b"\x01" * 16, "encIV": b"\x02" * 12}
    return [
        E.Message(pollUpdateMessage=E.PollUpdateMessage(pollCreationMessageKey=KEY)),
        E.Message(encReactionMessage=E.EncReactionMessage(targetMessageKey=KEY, **enc)),
        E.Message(
            senderKeyDistributionMessage=E.SenderKeyDistributionMessage(
                groupID=GROUP_JID, axolotlSenderKeyDistributionMessage=b"\x03" * 32
            )
        ),
        E.Message(keepInChatMessage=E.KeepInChatMessage(key=KEY, keepType=1)),
        E.Message(pinInChatMessage=E.PinInChatMessage(key=KEY, type=1)),
        E.Message(messageHistoryBundle=E.MessageHistoryBundle(directPath="/v/bundle")),
        E.Message(
            encEventResponseMessage=E.EncEventResponseMessage(eventCreationMessageKey=KEY, **enc)
        ),
        E.Message(placeholderMessage=E.PlaceholderMessage(type=0)),
        E.Message(albumMessage=E.AlbumMessage(expectedImageCount=2)),
    ]


def hd_child_of(parent: str) -> E.Message:
    hd = f.image("sunset")
    hd.imageMessage.directPath = "/v/t62.7118-24/hd.enc"
    hd.imageMessage.width, hd.imageMessage.height = 4000, 3000
    hd.imageMessage.fileLength = 2_000_000
    hd.messageContextInfo.messageAssociation.CopyFrom(
        E.MessageAssociation(
            associationType=ASSOC.HD_IMAGE_DUAL_UPLOAD,
            parentMessageKey=MessageKey(remoteJID=ALICE_JID, ID=parent),
        )
    )
    return E.Message(associatedChildMessage=E.FutureProofMessage(message=hd))


def business() -> list[E.Message]:
    template = E.TemplateMessage(
        hydratedTemplate=E.TemplateMessage.HydratedFourRowTemplate(
            hydratedTitleText="Your bank",
            hydratedContentText="Your code is 123456",
            hydratedFooterText="Do not share it",
        )
    )
    interactive = E.InteractiveMessage(
        body=E.InteractiveMessage.Body(text="Your parcel arrives today"),
        footer=E.InteractiveMessage.Footer(text="Track it in the app"),
    )
    buttons = E.ButtonsMessage(contentText="Confirm the appointment?", footerText="Reply below")
    return [
        E.Message(templateMessage=template),
        E.Message(interactiveMessage=interactive),
        E.Message(buttonsMessage=buttons),
    ]


async def test_real_kinds_become_exact_rows_and_unread_counts(tmp_path: Path) -> None:
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)
    events: list[Any] = [f.message_ev(f.text("hello"), msg_id="M1", ts_ms=T0)]
    events += [
        f.message_ev(m, msg_id=f"X{n}", ts_ms=T0 + 100 + n) for n, m in enumerate(ignored_kinds())
    ]
    album_photo = f.image("album 1")
    album_photo.messageContextInfo.messageAssociation.CopyFrom(
        E.MessageAssociation(associationType=ASSOC.MEDIA_ALBUM, parentMessageKey=KEY)
    )
    events += [
        f.message_ev(album_photo, msg_id="A1", ts_ms=T0 + 1000),
        f.message_ev(f.image("sunset"), msg_id="M3", ts_ms=T0 + 2000),
        f.message_ev(hd_child_of("M3"), msg_id="HD3", ts_ms=T0 + 2001),
    ]
    events += [
        f.message_ev(m, msg_id=f"B{n}", ts_ms=T0 + 3000 + n) for n, m in enumerate(business())
    ]
    # Something we do not know: stored (so nothing is silently lost) but never unread.
    events.append(
        f.message_ev(
            E.Message(eventMessage=E.EventMessage(name="Party")), msg_id="U1", ts_ms=T0 + 4000
        )
    )
    await pump(writer, events, tmp_path)

    got = rows(
        conn,
        "SELECT id, kind, content, caption FROM messages WHERE chat_jid = ? ORDER BY timestamp",
        ALICE_JID,
    )
    assert got == [
        ("M1", "text", "hello", None),
        ("A1", "image", None, "album 1"),
        ("M3", "image", None, "sunset"),
        ("B0", "text", "Your bank\nYour code is 123456\nDo not share it", None),
        ("B1", "text", "Your parcel arrives today\nTrack it in the app", None),
        ("B2", "text", "Confirm the appointment?\nReply below", None),
        ("U1", "unknown", "[unsupported message: eventMessage]", None),
    ]
    # The HD copy replaced the parent's media; it is no row of its own.
    media = rows(conn, "SELECT file_size, media_json FROM messages WHERE id = 'M3'")[0]
    assert media[0] == 2_000_000 and "hd.enc" in media[1] and '"width":4000' in media[1]
    assert unread(conn, ALICE_JID) == 6  # everything shown, not the unknown kind

    # Read on the phone up to B0: only what came after it stays unread.
    read_self = f.receipt(["B0"], N.Receipt.READ_SELF)
    read_self.MessageSource.IsFromMe = True
    await pump(writer, [read_self], tmp_path)
    assert unread(conn, ALICE_JID) == 2
    assert rows(conn, "SELECT count(*) FROM messages WHERE status IS NOT NULL") == [(0,)]


async def test_device_suffixed_and_lid_senders_and_the_dash_push_name(tmp_path: Path) -> None:
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)
    dm = f.message_ev(f.text("from my phone's twin"), msg_id="D1", ts_ms=T0, push_name="-")
    dm.Info.MessageSource.Sender.Device = 12
    group = f.message_ev(
        f.text("lid hello"),
        chat=f.GROUP,
        server="g.us",
        sender=f.BOB_LID,
        sender_server="lid",
        sender_alt=f.jid(f.BOB, device=3),
        push_name="Bob",
        msg_id="G1",
        ts_ms=T0 + 1,
    )
    group.Info.MessageSource.Sender.Device = 3
    await pump(writer, [dm, group], tmp_path)
    assert rows(conn, "SELECT id, chat_jid, sender, sender_name FROM messages ORDER BY id") == [
        ("D1", ALICE_JID, ALICE_JID, None),
        ("G1", GROUP_JID, f"{f.BOB}@s.whatsapp.net", "Bob"),
    ]
    assert rows(conn, "SELECT push_name FROM contacts WHERE jid = ?", ALICE_JID) in ([], [(None,)])
    assert rows(conn, "SELECT lid FROM contacts WHERE jid = ?", f"{f.BOB}@s.whatsapp.net") == [
        (f"{f.BOB_LID}@lid",)
    ]


async def test_history_clamps_far_future_skips_broadcasts_and_tracks_sync_type(
    tmp_path: Path,
) -> None:
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)
    newest, oldest = 1_700_000_500, 1_700_000_100
    year_2066 = 3_000_000_000
    chunk = f.history(
        [
            H.Conversation(
                ID=ALICE_JID,
                messages=[  # newest first, as WhatsApp sends them
                    f.web_message("H3", f.text("newest"), newest, remote=ALICE_JID),
                    f.web_message("H2", f.text("from 2066"), year_2066, remote=ALICE_JID),
                    f.web_message("H1", f.text("oldest"), oldest, remote=ALICE_JID),
                ],
            ),
            H.Conversation(
                ID="1700000000@broadcast",
                messages=[f.web_message("BL1", f.text("to my list"), oldest, remote="x@broadcast")],
            ),
        ],
        pushnames=[H.Pushname(ID=f"{f.BOB_LID}@lid", pushname="Bobby")],
        progress=30,
    )
    chunk.Data.syncType = H.HistorySync.FULL
    chunk.Data.chunkOrder = 4
    await pump(writer, [chunk], tmp_path)
    assert rows(conn, "SELECT id, timestamp FROM messages ORDER BY seq") == [
        ("H3", newest * 1000),
        ("H2", newest * 1000),  # clamped to the next newer message
        ("H1", oldest * 1000),
    ]
    assert rows(conn, "SELECT last_message_at FROM chats WHERE jid = ?", ALICE_JID) == [
        (newest * 1000,)
    ]
    assert rows(conn, "SELECT count(*) FROM chats WHERE jid LIKE '%@broadcast'") == [(0,)]
    # A push name keyed by LID is kept until the mapping arrives, then lands on the person.
    assert rows(conn, "SELECT push_name FROM contacts WHERE jid = ?", f"{f.BOB_LID}@lid") == [
        ("Bobby",)
    ]
    writer.link_lid(f"{f.BOB_LID}@lid", f"{f.BOB}@s.whatsapp.net")
    assert rows(
        conn, "SELECT push_name FROM contacts WHERE jid = ?", f"{f.BOB}@s.whatsapp.net"
    ) == [("Bobby",)]
    state = sync_state.read_sync_state(conn)
    assert state is not None and state.running(state.updated_at)
    assert state.types["FULL"].last_chunk_order == 4 and state.types["FULL"].progress == 30
    assert time.time() < year_2066


async def test_edits_and_reactions_found_in_history_are_applied(tmp_path: Path) -> None:
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)
    bob = f"{f.BOB}@s.whatsapp.net"
    edit = E.Message(
        editedMessage=E.FutureProofMessage(
            message=E.Message(
                protocolMessage=E.ProtocolMessage(
                    type=E.ProtocolMessage.MESSAGE_EDIT,
                    key=MessageKey(remoteJID=GROUP_JID, fromMe=False, ID="O1"),
                    editedMessage=E.Message(conversation="meet at 11, not 10"),
                    timestampMS=1_700_000_400_000,
                )
            )
        )
    )
    original = f.web_message(
        "O1", f.text("meet at 10"), 1_700_000_300, remote=GROUP_JID, participant=bob
    )
    original.message.reactions.append(
        W.Reaction(
            key=MessageKey(remoteJID=GROUP_JID, fromMe=False, participant=ALICE_JID, ID="R1"),
            text="👍",
            senderTimestampMS=1_700_000_350_000,
        )
    )
    chunk = f.history(
        [
            H.Conversation(
                ID=GROUP_JID,
                messages=[  # newest first: the edit, then the message it edits
                    f.web_message("E1", edit, 1_700_000_400, remote=GROUP_JID, participant=bob),
                    original,
                ],
            )
        ]
    )
    await pump(writer, [chunk], tmp_path)
    assert rows(conn, "SELECT id, content, edited FROM messages") == [
        ("O1", "meet at 11, not 10", 1)
    ]
    assert rows(conn, "SELECT message_id, sender, emoji FROM reactions") == [
        ("O1", ALICE_JID, "👍")
    ]


async def test_a_receipt_under_the_lid_reaches_my_message_in_the_phone_chat(tmp_path: Path) -> None:
    from tests.bridge.transport.neonize.fake_ffi_helpers import make_session_db

    session = tmp_path / "session" / "wa.db"
    make_session_db(session)  # whatsmeow's real schema
    alice_lid = "201111111111111"
    conn = open_writer(tmp_path / "messages.db")
    writer = StoreWriter(conn)
    mine = f.message_ev(f.text("hi Alice"), msg_id="S1", from_me=True, ts_ms=T0)
    await pump(writer, [mine], tmp_path)
    # whatsmeow's usync lookup before that first send stored Alice's LID.
    with sqlite3.connect(session) as db:
        db.execute("INSERT INTO whatsmeow_lid_map (lid, pn) VALUES (?, ?)", (alice_lid, f.ALICE))
    read = f.receipt(["S1"], N.Receipt.READ, chat=alice_lid)
    read.MessageSource.Chat.Server = "lid"
    read.MessageSource.Sender.Server = "lid"
    await pump(writer, [read], tmp_path)
    assert rows(conn, "SELECT id, chat_jid, status FROM messages") == [("S1", ALICE_JID, "read")]


def test_a_url_without_a_direct_path_is_not_downloadable() -> None:
    from bridge.transport.neonize import convert
    from store.models import MediaInfo, MessageKind

    media = MediaInfo(
        url="https://mmg.whatsapp.net/x.enc", media_key="AA==", file_enc_sha256="AA=="
    )
    with pytest.raises(ValueError, match="no download path"):
        convert.download_message(media, MessageKind.image)
