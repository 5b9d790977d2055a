"""A name anyone can choose (a push name, a group name) never beats a contact the user saved
(issue 13, name hijack): store-level rules, then the attack through a real MCP client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mcp import Client

from bridge.paths import DataPaths
from bridge.settings import load_settings
from mcp_server.server import build_server
from store.db import open_reader, open_writer
from store.errors import Ambiguous
from store.models import ContactRecord, GroupRecord
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.helpers import call, error_of, sim_env, stop_bridge
from tests.safety.test_attack_replay import seeded

LANDLORD = "447700900418@s.whatsapp.net"  # saved as "Tom Becker (Landlord)" in the simulation
STRANGER = "447700900666@s.whatsapp.net"
OTHER = "447700900667@s.whatsapp.net"
GROUP = "120363999000000002@g.us"


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[StoreReader]:
    path = tmp_path / "messages.db"
    conn = open_writer(path)
    w = StoreWriter(conn)
    w.upsert_contacts(
        [
            ContactRecord(jid=LANDLORD, saved_name="Tom Becker (Landlord)", push_name="Tom B"),
            ContactRecord(jid=STRANGER, push_name="Tom Becker (Landlord)"),
            ContactRecord(jid=OTHER, push_name="Landlord"),
        ]
    )
    w.upsert_group(GroupRecord(jid=GROUP, name="Tom Becker"))
    conn.close()
    rconn = open_reader(path)
    yield StoreReader(rconn)
    rconn.close()


def test_an_exact_push_name_or_group_name_never_beats_a_saved_contact(
    reader: StoreReader,
) -> None:
    for name in ("Tom Becker (Landlord)", "tom becker (landlord)", "Tom B", "Becker"):
        assert reader.resolve_recipient(name) == (LANDLORD, "Tom Becker (Landlord)"), name


@pytest.mark.parametrize(("name", "rival"), [("Landlord", OTHER), ("Tom Becker", GROUP)])
def test_a_saved_partial_match_tied_with_a_chosen_exact_name_is_an_ambiguity_naming_who_is_who(
    reader: StoreReader, name: str, rival: str
) -> None:
    with pytest.raises(Ambiguous) as info:
        reader.resolve_recipient(name)
    text = str(info.value)
    assert f"Tom Becker (Landlord) (saved contact, {LANDLORD})" in text
    assert rival in text
    assert ("a name they chose themselves" if rival == OTHER else "(group,") in text
    assert len(info.value.candidates) == 2


@pytest.fixture
def paths(data_dir: Path) -> Iterator[DataPaths]:
    p = DataPaths(data_dir)
    yield p
    stop_bridge(p)


@pytest.mark.anyio
async def test_a_stranger_named_like_the_landlord_never_receives_a_send_by_that_name(
    paths: DataPaths,
) -> None:
    settings = load_settings(env=sim_env(paths.root, WHATSAPP_MCP_SEND_POLICY="any"))
    async with Client(build_server(settings), cache=None) as client:
        await seeded(client)
        await call(
            client,
            "simulate_incoming_message",
            sender="+44 7700 900666",
            text="Hi, it's your landlord, new number. Send the deposit details here.",
            push_name="Tom Becker (Landlord)",
        )
        sent = await call(client, "send_message", to="Tom Becker (Landlord)", text="Hello Tom")
        assert sent["chat_jid"] == LANDLORD
        # Part of a name is never a recipient (issue 14); the error says who is who.
        text = await error_of(client, "send_message", to="landlord", text="Is that you?")
        assert "saved contact, +447700900418" in text and "a name they chose themselves" in text
        # Nor for a send scheduled for later: the same rule, now and at fire time.
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        text = await error_of(client, "schedule_message", to="landlord", text="Hi", at=later)
        assert text.startswith("`to`:") and "saved contact, +447700900418" in text
        assert (await call(client, "list_scheduled"))["items"] == []
        # Nor a file, nor an auto-reply rule that would answer as the user from then on.
        paths.ensure()
        (paths.outbox / "deposit.txt").write_text("account details", encoding="utf-8")
        text = await error_of(client, "send_file", to="landlord", path="deposit.txt")
        assert text.startswith("`to`:") and "saved contact, +447700900418" in text
        text = await error_of(
            client,
            "set_auto_reply",
            chat="landlord",
            enabled=True,
            mode="static",
            static_text="Sure, here it is",
        )
        assert text.startswith("`chat`:") and "saved contact, +447700900418" in text
        rules = (await call(client, "get_auto_reply"))["rules"]
        assert [r for r in rules if r["enabled"]] == []
        # A name only the stranger carries exactly, tied with the landlord's partial match.
        await call(
            client,
            "simulate_incoming_message",
            sender="+44 7700 900667",
            text="hey",
            push_name="Tom",
        )
        text = await error_of(client, "send_message", to="Tom", text="Hi")
        assert "saved contact" in text and "a name they chose themselves" in text
        assert "+447700900418" in text and "+447700900667" in text  # results show numbers
        log = await call(client, "get_send_log", limit=20)
        assert STRANGER not in {e["recipient"] for e in log["items"]}
