"""NeonizeTransport on this offline machine: neonize's real dispatch in, typed events out."""

from __future__ import annotations

import ctypes
import sqlite3
import threading
import time
from pathlib import Path

import anyio
import pytest

from bridge.transport.neonize import convert
from bridge.transport.neonize.client import NeonizeTransport, read_paired_account
from bridge.transport.protocol import (
    ConnectionEvent,
    ConnectionState,
    DeleteEvent,
    EditEvent,
    HistoryEvent,
    MessageEvent,
    NotConnected,
    OutboundText,
    PairingEvent,
    ReactionEvent,
    ReceiptEvent,
    Transport,
)
from store.models import ContactRecord, MessageKind, ReceiptKind
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.neonize_factory import H, N

pytestmark = pytest.mark.anyio


async def _prepared(tmp_path: Path) -> NeonizeTransport:
    t = NeonizeTransport(tmp_path / "session" / "wa.db")
    t._prepare()  # client + handlers, no network
    return t


async def _next(t: NeonizeTransport, n: int = 1, timeout: float = 5.0) -> list:
    out = []
    with anyio.fail_after(timeout):
        async for ev in t.events():
            out.append(ev)
            if len(out) == n:
                break
    return out


def test_is_a_transport(tmp_path: Path):
    assert isinstance(NeonizeTransport(tmp_path / "wa.db"), Transport)


async def test_dispatched_events_arrive_converted_in_order(tmp_path: Path):
    t = await _prepared(tmp_path)
    client = t._client
    sent = [
        f.message_ev(f.text("hello"), msg_id="M1"),
        f.message_ev(f.reply("pong", "M1", f"{f.ALICE}@s.whatsapp.net"), msg_id="M2"),
        f.message_ev(f.image("sunset"), msg_id="M3"),
        f.message_ev(f.voice(4), msg_id="M4"),
        f.message_ev(f.reaction("M1", "❤️"), msg_id="M5"),
        f.message_ev(f.edit("M2", "pong!"), msg_id="M6", edit="1"),
        f.message_ev(f.revoke("M3"), msg_id="M7", edit="7"),
        f.message_ev(
            f.text("hi group"),
            chat=f.GROUP,
            server="g.us",
            sender=f.BOB_LID,
            sender_server="lid",
            sender_alt=f.jid(f.BOB),
            push_name="Bob",
            msg_id="M8",
        ),
        f.receipt(["M1"], N.Receipt.READ),
        f.history(
            [
                H.Conversation(
                    ID=f"{f.ALICE}@s.whatsapp.net",
                    messages=[
                        f.web_message(
                            "H1", f.text("old"), 1_600_000_000, remote=f"{f.ALICE}@s.whatsapp.net"
                        )
                    ],
                )
            ]
        ),
    ]
    for ev in sent:
        f.dispatch(client, ev)  # the Go thread would do this
    got = await _next(t, len(sent))
    assert [type(e) for e in got] == [
        MessageEvent,
        MessageEvent,
        MessageEvent,
        MessageEvent,
        ReactionEvent,
        EditEvent,
        DeleteEvent,
        MessageEvent,
        ReceiptEvent,
        HistoryEvent,
    ]
    assert got[0].message.content == "hello"
    assert got[1].message.reply_to_id == "M1"
    assert got[2].message.kind is MessageKind.image and got[2].message.media.direct_path
    assert got[3].message.kind is MessageKind.voice
    assert (got[4].reaction.message_id, got[4].reaction.emoji) == ("M1", "❤️")
    assert (got[5].edit.message_id, got[5].edit.content) == ("M2", "pong!")
    assert got[6].delete.message_id == "M3"
    assert got[7].message.sender == f"{f.BOB}@s.whatsapp.net"
    assert got[7].contact == ContactRecord(
        jid=f"{f.BOB}@s.whatsapp.net", lid=f"{f.BOB_LID}@lid", push_name="Bob"
    )
    assert got[8].receipt.kind is ReceiptKind.read
    assert [m.id for m in got[9].batch.messages] == ["H1"]


@pytest.mark.parametrize(
    ("event", "state"),
    [
        (N.LoggedOut(OnConnect=False, Reason=N.LOGGED_OUT), ConnectionState.logged_out),
        (N.ClientOutdated(), ConnectionState.outdated),
        (
            N.TemporaryBan(Code=N.TemporaryBan.BLOCKED_BY_USERS, Expire=60),
            ConnectionState.banned,
        ),
    ],
)
async def test_permanent_states_are_reported_and_stop_reconnecting(tmp_path: Path, event, state):
    t = await _prepared(tmp_path)
    f.dispatch(t._client, event)
    (got,) = await _next(t)
    assert isinstance(got, ConnectionEvent) and got.state is state
    assert got.detail
    assert t.state is state
    assert t._halt is True


async def test_a_crashing_handler_is_logged_not_raised(tmp_path: Path, caplog, monkeypatch):
    t = await _prepared(tmp_path)

    def boom(*_a):
        raise RuntimeError("converter bug")

    monkeypatch.setattr(convert, "convert_message", boom)
    f.dispatch(t._client, f.message_ev(f.text("x")))  # must not raise
    assert "WhatsApp event handler failed" in caplog.text


async def test_qr_codes_become_pairing_events_and_nothing_is_printed(tmp_path: Path, capfd):
    t = await _prepared(tmp_path)
    payload = b"2@abc,def,ghi,jkl"
    buf = ctypes.create_string_buffer(payload)  # what Go hands over: a C string
    t._client._NewClient__onQr(0, ctypes.addressof(buf))
    first, state = await _next(t, 2)
    assert isinstance(first, PairingEvent) and first.qr == payload.decode()
    assert first.expires_at is not None
    assert isinstance(state, ConnectionEvent) and state.state is ConnectionState.pairing
    assert t.state is ConnectionState.pairing
    assert capfd.readouterr().out == ""


async def test_login_status_timeout_abandons_the_client_for_a_fresh_qr(tmp_path: Path, capfd):
    t = await _prepared(tmp_path)
    buf = ctypes.create_string_buffer(b"timeout")
    # The callback neonize's connect() hands to Go (ours shadows neonize's printing one).
    t._client._NewClient__onLoginStatus(0, ctypes.addressof(buf))
    assert t._gen is not None and t._gen.restart_reason == "qr-expired"
    assert capfd.readouterr().out == ""  # neonize's own callback would print() here


async def test_a_qr_after_abandoning_comes_from_a_fresh_client(tmp_path: Path):
    t = await _prepared(tmp_path)
    old = t._gen
    assert old is not None
    old.started = True
    t._abandon(old, "test")
    new = t._prepare()
    assert new is not old and new.uuid != old.uuid
    assert t.abandoned_clients == 1 and not old.client._stop_finalizer.alive
    buf = ctypes.create_string_buffer(b"2@late,qr")
    old.client._NewClient__onQr(0, ctypes.addressof(buf))  # a late code from the old one
    buf2 = ctypes.create_string_buffer(b"2@fresh,qr")
    new.client._NewClient__onQr(0, ctypes.addressof(buf2))
    (got, _state) = await _next(t, 2)
    assert isinstance(got, PairingEvent) and got.qr == "2@fresh,qr"


async def test_commands_need_a_connection(tmp_path: Path):
    t = await _prepared(tmp_path)
    with pytest.raises(NotConnected, match="not connected"):
        await t.send_text(OutboundText(chat_jid=f"{f.ALICE}@s.whatsapp.net", text="hi"))


async def test_offline_start_reports_unreachable_promptly_and_stops(tmp_path: Path):
    session = tmp_path / "session" / "wa.db"
    t = NeonizeTransport(session, backoff_initial=0.1)
    assert t.is_paired() is False
    started = time.monotonic()
    await t.start()
    seen: list[ConnectionEvent] = []
    with anyio.fail_after(10):
        async for ev in t.events():
            assert isinstance(ev, ConnectionEvent)
            seen.append(ev)
            if ev.state is ConnectionState.disconnected:
                break
    elapsed = time.monotonic() - started
    assert seen[0].state is ConnectionState.connecting
    assert seen[-1].detail is not None
    assert seen[-1].detail.startswith("Cannot reach WhatsApp's servers: ")
    assert "no such host" in seen[-1].detail or "dial" in seen[-1].detail
    assert elapsed < 10
    with anyio.fail_after(20):  # the retry dials again with the same client, not a new one
        async for ev in t.events():
            if isinstance(ev, ConnectionEvent) and ev.state is ConnectionState.disconnected:
                break
    assert t._generations == 1 and t.abandoned_clients == 0
    with anyio.fail_after(5):
        await t.stop()
    assert t._supervisor is not None and not t._supervisor.is_alive()
    assert t.is_paired() is False  # the session DB now exists but holds no device


async def test_a_connect_that_hangs_is_reported_but_never_stopped(tmp_path: Path):
    """A black-holed dial: Stop() would only queue behind whatsmeow's socket lock (which gives
    the dial up by itself after ~60 s), so the watchdog reports it and leaves it alone."""
    t = NeonizeTransport(tmp_path / "wa.db", connect_timeout=0.3, backoff_initial=0.1)
    t._prepare()
    client = t._client
    gate = threading.Event()
    stops: list[float] = []
    client.connect = lambda: gate.wait(10)
    client.stop = lambda: stops.append(time.monotonic())
    await t.start()
    with anyio.fail_after(5):
        async for ev in t.events():
            if isinstance(ev, ConnectionEvent) and ev.detail and "no answer within" in ev.detail:
                assert ev.state is ConnectionState.connecting
                break
    assert stops == []
    gate.set()
    with anyio.fail_after(5):
        await t.stop()
    assert stops == []  # unpaired: abandoned, never stopped


def test_is_paired_reads_the_whatsmeow_device_table(tmp_path: Path):
    db = tmp_path / "wa.db"
    assert read_paired_account(db) is None  # no file
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY)")
    assert read_paired_account(db) is None  # table, no device
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO whatsmeow_device VALUES ('15551234567.0:7@s.whatsapp.net')")
    t = NeonizeTransport(db)
    assert t.is_paired() is True
    assert t.account_jid == "15551234567@s.whatsapp.net"


def test_fresh_session_agrees_with_neonizes_own_device_listing(tmp_path: Path):
    from neonize.client import ClientFactory

    db = tmp_path / "wa.db"
    assert ClientFactory.get_all_devices_from_db(str(db)) == []  # creates the whatsmeow schema
    assert db.exists()
    assert read_paired_account(db) is None
