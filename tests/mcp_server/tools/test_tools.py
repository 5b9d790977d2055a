"""Every tool through a real MCP client, against a real bridge on simulated WhatsApp, both in
this process (tests/inprocess.py): the server's control client reaches the bridge's Starlette
app through httpx2's ASGI transport instead of the socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bridge.settings import Settings, load_settings
from mcp_server.server import build_server
from store.jid import parse_address
from tests.helpers import call, error_of, eventually_async, sim_env
from tests.inprocess import in_process

pytestmark = pytest.mark.anyio

EXPECTED_TOOLS = {
    "get_status",
    "list_chats",
    "get_chat",
    "list_messages",
    "search_messages",
    "get_message_context",
    "search_contacts",
    "send_message",
    "simulate_incoming_message",
}


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return load_settings(env=sim_env(data_dir))


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with in_process(settings) as both:
        yield both.client


async def test_tools_are_listed_with_honest_annotations(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert EXPECTED_TOOLS <= set(tools)
    for name, tool in tools.items():
        assert tool.description and len(tool.description) > 40, name
        ann = tool.annotations
        assert ann is not None and ann.read_only_hint is not None, name
        if not ann.read_only_hint:
            # A write tool says plainly whether it destroys and whether it reaches others.
            assert ann.destructive_hint is not None and ann.open_world_hint is not None, name
    for name in ("list_chats", "get_chat", "list_messages", "search_messages", "get_status"):
        assert tools[name].annotations.read_only_hint is True  # type: ignore[union-attr]
    send = tools["send_message"].annotations
    assert send is not None
    assert send.read_only_hint is False and send.destructive_hint is True
    assert send.open_world_hint is True and send.idempotent_hint is False


async def test_simulate_tool_is_absent_outside_simulate_mode(tmp_path: Path) -> None:
    settings = load_settings(env={"WHATSAPP_MCP_DATA_DIR": str(tmp_path / "real")})
    server = build_server(settings)
    names = {t.name for t in await server.list_tools()}
    assert "simulate_incoming_message" not in names and "send_message" in names


async def test_get_status_reports_connected_simulation(client: Client) -> None:
    async def connected() -> dict[str, Any] | None:
        status = await call(client, "get_status")
        ok = status["state"] == "connected" and status["store"] and status["store"]["messages"]
        return status if ok else None

    status = await eventually_async(connected, timeout=30, what="a connected, seeded status")
    assert status["simulate"] is True and status["paired"] is True
    assert status["bridge_running"] is True and status["account"]
    assert status["store"]["chats"] >= 8


async def wait_for_seed(client: Client) -> list[dict[str, Any]]:
    async def chats() -> list[dict[str, Any]] | None:
        result = await client.call_tool("list_chats", {"limit": 50})
        if not result.is_error and result.structured_content:
            items = result.structured_content["items"]
            if len(items) >= 8:
                return list(items)
        return None

    return await eventually_async(chats, timeout=30, what="the seeded chats")


async def test_list_chats_pages_with_names_and_get_chat_shows_groups(client: Client) -> None:
    chats = await wait_for_seed(client)
    assert all(c["name"] for c in chats)
    stamps = [c["last"] for c in chats if c.get("last")]
    assert stamps == sorted(stamps, reverse=True)
    first = await call(client, "list_chats", limit=3)
    second = await call(client, "list_chats", limit=3, cursor=first["next_cursor"])
    assert {c["chat"] for c in first["items"]}.isdisjoint({c["chat"] for c in second["items"]})
    groups = await call(client, "list_chats", kind="group")
    assert len(groups["items"]) == 2
    group = await call(client, "get_chat", chat=groups["items"][0]["chat"])
    assert group["group"] and group["participants"]
    by_name = await call(client, "get_chat", chat=groups["items"][0]["name"])
    assert by_name["chat"] == group["chat"]


async def test_search_finds_ranked_hits_with_snippets_and_context(client: Client) -> None:
    await wait_for_seed(client)
    hits = await call(client, "search_messages", query="dinner")
    assert hits["items"]
    assert all("[" in h["snippet"] and "]" in h["snippet"] for h in hits["items"])
    accent = await call(client, "search_messages", query="cafe")
    assert any("café" in h["snippet"].lower() for h in accent["items"])
    hit = hits["items"][0]
    ctx = await call(
        client, "get_message_context", chat=hit["chat"], message_id=hit["id"], before=2, after=2
    )
    assert ctx["target"]["id"] == hit["id"]
    weird = await client.call_tool("search_messages", {"query": 'hello "world AND OR'})
    assert not weird.is_error


async def test_list_messages_filters_and_pages(client: Client) -> None:
    chats = await wait_for_seed(client)
    busiest = chats[0]  # the most recently active chat has dozens of messages
    page1 = await call(client, "list_messages", chat=busiest["chat"], limit=5)
    assert len(page1["items"]) == 5
    page2 = await call(
        client, "list_messages", chat=busiest["chat"], limit=5, cursor=page1["next_cursor"]
    )
    assert {m["id"] for m in page1["items"]}.isdisjoint({m["id"] for m in page2["items"]})
    assert page1["items"][-1]["time"] >= page2["items"][0]["time"]
    oldest = await call(client, "list_messages", chat=busiest["chat"], order="oldest", limit=5)
    assert oldest["items"][0]["time"] <= page1["items"][-1]["time"]


async def test_search_contacts_finds_people_by_name_and_number(client: Client) -> None:
    chats = await wait_for_seed(client)
    person = next(c for c in chats if not c.get("group"))
    found = await call(client, "search_contacts", query=person["name"].split()[0])
    assert any(c["id"] == person["chat"] for c in found["items"])
    digits = person["chat"][-6:]
    by_number = await call(client, "search_contacts", query=digits)
    assert any(c["id"] == person["chat"] for c in by_number["items"])


async def test_send_message_reaches_a_contact_who_answers(client: Client) -> None:
    chats = await wait_for_seed(client)
    peer = next(c for c in chats if not c.get("group"))
    sent = await call(client, "send_message", to=peer["chat"], text="Are we still on for Friday?")
    assert sent["id"] and sent["chat_jid"] == parse_address(peer["chat"])

    async def answered() -> dict[str, Any] | None:
        msgs = await call(client, "list_messages", chat=peer["chat"], limit=3)
        newest = msgs["items"][0]
        return (
            msgs if not newest.get("from_me") and newest["time"] >= sent["timestamp"][:19] else None
        )

    msgs = await eventually_async(answered, what="the contact's answer")
    assert any(m["id"] == sent["id"] and m.get("from_me") for m in msgs["items"])


async def test_send_message_accepts_a_unique_name_and_refuses_unknown_ones(client: Client) -> None:
    chats = await wait_for_seed(client)
    peer = next(c for c in chats if not c.get("group"))
    sent = await call(client, "send_message", to=peer["name"], text="hello by name")
    assert sent["chat_jid"] == parse_address(peer["chat"])
    text = await error_of(client, "send_message", to="Nobody McUnknown", text="x")
    assert "search_contacts" in text
    # The description promises a whole name: part of one is refused, naming the full one.
    partial = await error_of(client, "send_message", to=peer["name"].split()[-1], text="x")
    assert "named exactly" in partial and peer["name"] in partial and "`to`" in partial
    bad = await error_of(client, "list_messages", chat="123@nonsense.server")
    assert "JID" in bad or "server" in bad


async def test_incoming_message_is_readable_and_searchable_at_once(client: Client) -> None:
    await wait_for_seed(client)
    got = await call(
        client,
        "simulate_incoming_message",
        sender="+1 (555) 010-9988",
        text="zebra crossing later?",
    )
    assert got["chat"] == "+15550109988"
    msgs = await call(client, "list_messages", chat=got["chat"])
    assert msgs["items"][0]["text"] == "zebra crossing later?"
    hits = await call(client, "search_messages", query="zebra")
    assert [h["id"] for h in hits["items"]] == [got["id"]]
    found = await call(client, "search_contacts", query="5550109988")
    assert found["items"] and "saved" not in found["items"][0]
