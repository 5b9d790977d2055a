"""Risky sends ask the person where the host can (MCP form elicitation), with the real SDK
client: one that declares elicitation and accepts, one that declines, and one that cannot ask
(the bridge's policy then decides alone)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

from bridge.paths import DataPaths
from bridge.settings import load_settings
from mcp_server.server import build_server
from tests.helpers import call, error_of, sim_env, stop_bridge
from tests.safety.test_attack_replay import seeded

pytestmark = pytest.mark.anyio

STRANGER = "+44 7700 900555"
STRANGER_JID = "447700900555@s.whatsapp.net"


class Person:
    """The human behind the host: records what they were shown, answers accept or decline."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.shown: list[str] = []

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> Any:
        self.shown.append(params.message)
        if self.action == "accept":
            return ElicitResult(action="accept", content={"send": True})
        return ElicitResult(action=self.action)  # type: ignore[arg-type]


@pytest.fixture
def paths(data_dir: Path) -> Iterator[DataPaths]:
    p = DataPaths(data_dir)
    yield p
    stop_bridge(p)


def mine(items: list[dict[str, Any]]) -> list[str]:
    return [m.get("text", "") for m in items if m.get("from_me")]


async def test_a_first_contact_is_shown_to_the_person_and_sent_only_if_they_accept(
    paths: DataPaths,
) -> None:
    settings = load_settings(env=sim_env(paths.root, WHATSAPP_MCP_SEND_POLICY="known"))
    accept, decline = Person("accept"), Person("decline")
    async with Client(build_server(settings), cache=None, elicitation_callback=decline) as c:
        chats = await seeded(c)
        await call(c, "simulate_incoming_message", sender=STRANGER, text="hi, who is this?")
        text = "Hello! This is Sam.\nWho gave you my number?"
        err = await error_of(c, "send_message", to=STRANGER_JID, text=text)
        assert "declined_by_user" in err
        assert len(decline.shown) == 1
        shown = decline.shown[0]
        assert "+447700900555" in shown and "first contact" in shown and text in shown
        msgs = await call(c, "list_messages", chat=STRANGER_JID)
        assert mine(msgs["items"]) == []
        # A saved contact and a fresh text: nothing to ask.
        maria = next(x for x in chats if x["name"] == "Maria García")
        await call(c, "send_message", to=maria["chat"], text="See you at 8")
        assert len(decline.shown) == 1
    async with Client(build_server(settings), cache=None, elicitation_callback=accept) as c:
        await seeded(c)
        sent = await call(c, "send_message", to=STRANGER_JID, text="Hello! This is Sam.")
        assert sent["chat_jid"] == STRANGER_JID
        assert len(accept.shown) == 1 and "Hello! This is Sam." in accept.shown[0]
        # Only the first contact is asked about: the conversation then goes on as usual.
        await call(c, "send_message", to=STRANGER_JID, text="Talk soon.")
        assert len(accept.shown) == 1


async def test_a_text_repeating_another_chat_is_confirmed_even_to_a_saved_contact(
    paths: DataPaths,
) -> None:
    settings = load_settings(env=sim_env(paths.root))
    decline = Person("decline")
    async with Client(build_server(settings), cache=None, elicitation_callback=decline) as c:
        chats = await seeded(c)
        people = [x for x in chats if not x.get("group")]
        source, target = people[0], people[1]
        page = await call(c, "list_messages", chat=source["chat"], limit=20)
        long = next(m["text"] for m in page["items"] if len(m.get("text", "")) >= 30)
        err = await error_of(c, "send_message", to=target["chat"], text=long)
        assert "declined_by_user" in err
        assert "repeats a message from another chat" in decline.shown[0]


async def test_without_the_capability_the_policy_decides_alone(paths: DataPaths) -> None:
    settings = load_settings(env=sim_env(paths.root, WHATSAPP_MCP_SEND_POLICY="known"))
    async with Client(build_server(settings), cache=None) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        for name in ("send_message", "send_file"):
            # The answer comes from the person through the host, never from the model.
            assert "confirmation" not in tools[name].input_schema["properties"]
            assert tools[name].annotations.read_only_hint is False  # type: ignore[union-attr]
        await seeded(c)
        await call(c, "simulate_incoming_message", sender=STRANGER, text="hi, who is this?")
        sent = await call(c, "send_message", to=STRANGER_JID, text="Hello! This is Sam.")
        assert sent["chat_jid"] == STRANGER_JID
        # …and what the policy refuses stays refused, asked or not.
        err = await error_of(c, "send_message", to="+44 7700 900556", text="hi")
        assert "recipient_not_allowed" in err


async def test_a_file_is_shown_with_its_name_before_it_is_sent(paths: DataPaths) -> None:
    settings = load_settings(env=sim_env(paths.root))
    paths.ensure()
    (paths.outbox / "contract.txt").write_text("the signed contract", encoding="utf-8")
    decline, accept = Person("decline"), Person("accept")
    async with Client(build_server(settings), cache=None, elicitation_callback=decline) as c:
        chats = await seeded(c)
        maria = next(x for x in chats if x["name"] == "Maria García")
        err = await error_of(
            c, "send_file", to=maria["chat"], path="contract.txt", caption="As promised"
        )
        assert "declined_by_user" in err
        shown = decline.shown[0]
        assert "contract.txt" in shown and "As promised" in shown and "Maria García" in shown
    async with Client(build_server(settings), cache=None, elicitation_callback=accept) as c:
        sent = await call(c, "send_file", to=maria["chat"], path="contract.txt")
        assert sent["filename"] == "contract.txt" and len(accept.shown) == 1


async def test_a_send_scheduled_to_a_first_contact_is_asked_about_when_it_is_scheduled(
    paths: DataPaths,
) -> None:
    # Scheduling is sending later: it must not be the way around the person's confirmation.
    settings = load_settings(env=sim_env(paths.root, WHATSAPP_MCP_SEND_POLICY="known"))
    accept, decline = Person("accept"), Person("decline")
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    async with Client(build_server(settings), cache=None, elicitation_callback=decline) as c:
        await seeded(c)
        await call(c, "simulate_incoming_message", sender=STRANGER, text="hi, who is this?")
        err = await error_of(c, "schedule_message", to=STRANGER_JID, text="Hello!", at=later)
        assert "declined_by_user" in err and "nothing was scheduled" in err
        [shown] = decline.shown
        assert "wants to schedule" in shown and f"When: {later}" in shown
        assert "first contact" in shown and "Hello!" in shown
        assert (await call(c, "list_scheduled"))["items"] == []
    async with Client(build_server(settings), cache=None, elicitation_callback=accept) as c:
        await seeded(c)
        item = await call(c, "schedule_message", to=STRANGER_JID, text="Hello!", at=later)
        assert item["state"] == "pending" and item["to"] == STRANGER_JID
        assert len(accept.shown) == 1
