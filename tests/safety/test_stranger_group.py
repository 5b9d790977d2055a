"""A stranger creates a group with the user and posts instructions there (issue 13, attack 1),
replayed through a real MCP client on simulated WhatsApp with the default settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from bridge.paths import DataPaths
from bridge.settings import load_settings
from mcp_server.server import build_server
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
        assert bait["chat_jid"] == STRANGER_GROUP and not bait["is_from_me"]
        group = await call(client, "get_chat", chat=STRANGER_GROUP)
        assert group["is_group"] and group["my_role"] == "member"

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
        assert typed["is_from_me"] and typed["sender"] is None
        sent = await call(client, "send_message", to=STRANGER_GROUP, text="Please stop.")
        assert sent["chat_jid"] == STRANGER_GROUP
