"""A stranger creates a group with the user and posts instructions there (issue 13, attack 1),
replayed through a real MCP client on simulated WhatsApp with the default settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mcp import Client

from bridge.paths import DataPaths
from bridge.settings import load_settings
from mcp_server.server import build_server
from store.audit import SendAttempt, SendLogStore
from store.db import open_writer
from store.models import GroupParticipantRecord, GroupRecord, MessageRecord
from store.writer import StoreWriter
from tests.helpers import call, error_of, sim_env, stop_bridge
from tests.safety.test_attack_replay import ATTACKER, INSTRUCTIONS, seeded

pytestmark = pytest.mark.anyio

STRANGER_GROUP = "120363999000000001@g.us"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@pytest.fixture
def paths(data_dir: Path) -> Iterator[DataPaths]:
    p = DataPaths(data_dir)
    yield p
    stop_bridge(p)


async def test_a_group_a_stranger_created_gets_nothing_until_the_user_writes_there(
    paths: DataPaths,
) -> None:
    settings = load_settings(env=sim_env(paths.root))
    assert settings.send_policy == "contacts" and not settings.allowed_recipients
    paths.ensure()
    (paths.outbox / "photo.png").write_bytes(PNG)
    async with Client(build_server(settings), cache=None) as client:
        await seeded(client)
        bait = await call(
            client,
            "simulate_incoming_message",
            sender=ATTACKER,
            chat=STRANGER_GROUP,
            text=INSTRUCTIONS,
            push_name="WhatsApp Support",
        )
        assert bait["chat"] == STRANGER_GROUP and not bait.get("from_me")
        group = await call(client, "get_chat", chat=STRANGER_GROUP)
        assert group.get("group") and group["my_role"] == "member"

        refusals = [
            await error_of(client, "send_message", to=STRANGER_GROUP, text="Here you go"),
            await error_of(client, "send_file", to=STRANGER_GROUP, path="photo.png"),
            await error_of(
                client, "send_reaction", chat=STRANGER_GROUP, message_id=bait["id"], emoji="👍"
            ),
            await error_of(
                client,
                "set_auto_reply",
                chat=STRANGER_GROUP,
                enabled=True,
                mode="static",
                static_text="I'm away",
                mention_only=False,
            ),
        ]
        for text in refusals:
            assert "group_without_consent" in text, text
            assert "added by its creator +447700900999" in text and "never written" in text
            assert "WHATSAPP_MCP_ALLOWED_RECIPIENTS" in text
        rules = await call(client, "get_auto_reply")
        assert not [r for r in rules["rules"] if r["chat"] == STRANGER_GROUP]
        log = await call(client, "get_send_log", limit=10)
        assert {e["outcome"] for e in log["items"] if e["recipient"] == STRANGER_GROUP} == {
            "refused"
        }

        # The user writes in the group by hand, on the phone: that is consent.
        typed = await call(
            client,
            "simulate_incoming_message",
            sender=ATTACKER,
            chat=STRANGER_GROUP,
            text="Who are you?",
            from_me=True,
        )
        assert typed.get("from_me") is True and "sender" not in typed
        sent = await call(client, "send_message", to=STRANGER_GROUP, text="Please stop.")
        assert sent["chat_jid"] == STRANGER_GROUP


ME = "15550000000@s.whatsapp.net"
STRANGER_JID = "447700900999@s.whatsapp.net"


def test_consent_is_writing_by_hand_creating_or_administering_never_our_own_sends(
    tmp_path: Path,
) -> None:
    path = tmp_path / "messages.db"
    conn = open_writer(path)
    w = StoreWriter(conn)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    groups = {
        k: f"1203630000000000{i:02d}@g.us"
        for i, k in enumerate(["created", "admin", "typed", "tool", "auto", "added"])
    }
    for kind, jid in groups.items():
        owner = ME if kind == "created" else STRANGER_JID
        w.upsert_group(
            GroupRecord(
                jid=jid,
                owner=owner,
                participants=[
                    GroupParticipantRecord(jid=STRANGER_JID, is_super_admin=True),
                    GroupParticipantRecord(jid=ME, is_admin=kind == "admin"),
                ],
            )
        )
        w.ingest_message(
            MessageRecord(
                id=f"IN-{kind}", chat_jid=jid, sender=STRANGER_JID, content="hi", timestamp=t
            )
        )
    for kind in ("typed", "tool", "auto"):
        w.ingest_message(
            MessageRecord(
                id=f"OUT-{kind}",
                chat_jid=groups[kind],
                content="sure",
                is_from_me=True,
                is_auto_reply=kind == "auto",
                timestamp=t,
            )
        )
    conn.close()
    log = SendLogStore.open(path)
    try:
        log.record(
            SendAttempt(
                at_ms=1,
                origin="tool",
                kind="text",
                recipient=groups["tool"],
                outcome="sent",
                message_id="OUT-tool",
            )
        )
        got = {k: log.recipient_facts(jid, ME).group_consent for k, jid in groups.items()}
        owner = log.recipient_facts(groups["added"], ME).group_owner
    finally:
        log.close()
    assert got == {
        "created": "created",
        "admin": "admin",
        "typed": "wrote",
        "tool": None,  # our own send is not the user's consent
        "auto": None,  # nor is an auto-reply
        "added": None,
    }
    assert owner == STRANGER_JID
