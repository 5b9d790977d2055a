"""The real bridge with NeonizeTransport on the fake Go library: saved names from session.db, and
a stop in the middle of a live burst and a history chunk that loses nothing that reached us."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client

from bridge.settings import load_settings
from mcp_server.server import build_server
from store.db import open_reader
from tests.bridge.transport.neonize.fake_ffi_helpers import FakeBridge, make_session_db
from tests.bridge.transport.neonize.neonize_factory import ALICE, N
from tests.helpers import call

MOM = "15557770001"
MOM_LID = "210987654321098"
DAD = "15557770002"


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


def _seed_whatsmeow(session: Path) -> None:
    """Rows as whatsmeow writes them: contacts from app state, under the LID or the phone JID."""
    make_session_db(session)
    with sqlite3.connect(session) as db:
        db.execute(
            "INSERT INTO whatsmeow_device (jid, lid, registration_id, noise_key, identity_key, "
            "signed_pre_key, signed_pre_key_id, signed_pre_key_sig, adv_key, adv_details, "
            "adv_account_sig, adv_account_sig_key, adv_device_sig) "
            "VALUES (?, ?, 1, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
            (
                "15550001111:7@s.whatsapp.net",
                "99887766554433:7@lid",
                b"\0" * 32,
                b"\0" * 32,
                b"\0" * 32,
                b"\0" * 64,
                b"k",
                b"d",
                b"\0" * 64,
                b"\0" * 32,
                b"\0" * 64,
            ),
        )
        me = "15550001111:7@s.whatsapp.net"
        db.executemany(
            "INSERT INTO whatsmeow_contacts (our_jid, their_jid, first_name, full_name, push_name,"
            " business_name) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (me, f"{MOM_LID}@lid", "Mom", "Mom", "-", ""),
                (me, f"{DAD}@s.whatsapp.net", "Dad", "Dad Smith", "Papa", ""),
            ],
        )
        db.execute("INSERT INTO whatsmeow_lid_map (lid, pn) VALUES (?, ?)", (MOM_LID, MOM))


@pytest.mark.anyio
async def test_saved_names_from_session_db_resolve_in_search_and_send(data_dir: Path) -> None:
    fake = FakeBridge(data_dir)
    _seed_whatsmeow(fake.paths.session_db)
    try:
        await anyio.to_thread.run_sync(fake.start)
        settings = load_settings(env={"WHATSAPP_MCP_DATA_DIR": str(data_dir)})
        async with Client(build_server(settings), cache=None) as client:
            found = await call(client, "search_contacts", query="Mom")
            items = found["items"]
            assert [(c["id"], c["name"]) for c in items] == [(f"+{MOM}", "Mom")]
            dad = (await call(client, "search_contacts", query="Dad Smith"))["items"]
            assert dad[0]["id"] == f"+{DAD}"
            sent = await call(client, "send_message", to="Mom", text="hello mom")
            assert sent["chat_jid"] == f"{MOM}@s.whatsapp.net"
        sends = fake.calls("SendMessage")
        assert [s["to"] for s in sends] == [MOM]
        # Names came from session.db only: Go's contact store was never asked.
        assert fake.calls("GetAllContacts") == []
        conn = open_reader(fake.paths.messages_db)
        try:
            mom_lid = conn.execute(
                "SELECT lid, push_name FROM contacts WHERE jid = ?", (f"{MOM}@s.whatsapp.net",)
            ).fetchone()
            me = conn.execute(
                "SELECT lid FROM contacts WHERE jid = '15550001111@s.whatsapp.net'"
            ).fetchone()
        finally:
            conn.close()
        assert tuple(mom_lid) == (f"{MOM_LID}@lid", None)  # push name "-" is no name
        assert me[0] == "99887766554433@lid"  # my own LID links to my phone JID
        assert await anyio.to_thread.run_sync(fake.cli_stop) < 10
    finally:
        fake.close()


def _stored_ids(db: Path) -> set[str]:
    conn = open_reader(db)
    try:
        rows = conn.execute(
            "SELECT id FROM messages WHERE chat_jid = ?", (f"{ALICE}@s.whatsapp.net",)
        )
        return {r[0] for r in rows}
    finally:
        conn.close()


def _tags(calls: list[dict[str, object]]) -> set[str]:
    return {str(c["tag"]).split(":", 1)[1] for c in calls if str(c["tag"]).startswith("message:")}


def test_stop_during_a_burst_and_a_history_chunk_loses_nothing_that_reached_us(
    data_dir: Path,
) -> None:
    fake = FakeBridge(data_dir, burst=500, burst_gap=0.02, history=20)  # a 10 s burst
    try:
        fake.start("--idle-exit", "1")
        started = time.monotonic()
        # No control requests from here on: only the history sync keeps the bridge up.
        fake.wait_for(
            lambda: (
                len(_stored_ids(fake.paths.messages_db)) >= 150 and time.monotonic() - started > 2.5
            ),
            "a chunk and part of the burst stored, past the 1 s idle grace",
        )
        assert len(fake.calls("acked")) < 501, "the burst must still be arriving"
        assert fake.cli_stop() < 10
        assert fake.proc is not None and fake.proc.returncode == 0, fake.tail()
        delivered = _tags(fake.calls("delivered"))
        acked = _tags(fake.calls("acked"))
        # Disconnect first, drain, then Stop: what WhatsApp considers delivered reached us...
        assert delivered == acked
        assert fake.calls("callback-cancelled")[0]["dropped"] == 0
        assert len(fake.calls("Stop")) == 1  # once, by us; neonize's finalizer is detached
        # ...and everything that reached our code is in the store, also after a restart.
        assert delivered <= _stored_ids(fake.paths.messages_db)
        assert "history:H" in {c["tag"] for c in fake.calls("delivered")}
        assert {f"H{n}" for n in range(20)} <= _stored_ids(fake.paths.messages_db)
        fake.start()
        assert delivered <= _stored_ids(fake.paths.messages_db)
        assert fake.cli_stop() < 10
    finally:
        fake.close()


def test_receipt_protobufs_are_real() -> None:
    # Guard for the factory the fake uses: neonize's Receipt type still has READ_SELF.
    assert N.Receipt.READ_SELF != N.Receipt.READ
