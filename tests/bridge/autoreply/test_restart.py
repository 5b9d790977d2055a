"""End to end with separate processes: the MCP server spawns `python -m bridge`, which inherits
GEMINI_API_KEY and GOOGLE_GEMINI_BASE_URL from the server's environment and answers through the
real google-genai client. The bridge is then stopped and started again: rules and ledger survive,
and a re-delivered message is not answered twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bridge.control.client import ControlClient
from bridge.control.models import InboundRequest, InboundResponse, StopResponse
from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.server import build_server
from tests.bridge.fake_gemini import FakeGemini
from tests.harness import MARIA, TOM, autoreply_settings, rule_of, wait_until
from tests.helpers import call, replacement_bridge, stop_bridge

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(data_dir: Path, fake_gemini: FakeGemini) -> Iterator[Settings]:
    s = autoreply_settings(data_dir)
    yield s
    stop_bridge(DataPaths(data_dir))


async def auto_replies(client: Client, chat: str) -> list[dict[str, Any]]:
    page = await call(client, "list_messages", chat=chat, limit=50)
    return [m for m in page["items"] if m.get("auto_reply")]


def ledger(paths: DataPaths) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(f"{paths.messages_db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT chat_jid, message_id, state FROM autoreply_ledger ORDER BY at, message_id"
        ).fetchall()
    finally:
        conn.close()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


async def test_rules_and_ledger_survive_a_bridge_restart_and_nothing_is_answered_twice(
    settings: Settings, fake_gemini: FakeGemini
) -> None:
    paths = DataPaths(settings.data_dir)
    fake_gemini.answer = lambda r: f"Auto answer {len(fake_gemini.requests)}"
    async with Client(build_server(settings), cache=None) as client:
        await call(client, "set_auto_reply", chat=TOM, enabled=True, instructions="Be brief.")
        await call(client, "set_auto_reply", chat=MARIA, enabled=True, instructions="Be warm.")
        first = await call(client, "simulate_incoming_message", sender=TOM, text="Rent is due")
        [reply] = await wait_until(lambda: auto_replies(client, TOM), timeout=30)
        assert reply["text"] == "Auto answer 1"
        assert "Rent is due" in fake_gemini.requests[0].prompt
        # The reply is stored before the ledger records it as sent (the same writer, next job).
        await wait_until(lambda: ledger(paths) == [(TOM, first["id"], "sent")], timeout=30)
        old_pid = (await call(client, "get_status"))["bridge_pid"]

        # Stop the bridge; the server notices and starts a new one.
        await ControlClient(paths).call("POST", "/api/stop", StopResponse)
        status = await wait_until(lambda: replacement_bridge(client, old_pid), timeout=30)
        assert status["state"] == "connected"

        overview = await call(client, "get_auto_reply")
        assert rule_of(overview, TOM)["enabled"] and rule_of(overview, MARIA)["enabled"]
        assert rule_of(overview, TOM)["instructions"] == "Be brief."
        assert rule_of(overview, TOM)["stats"]["replies"] == 1, rule_of(overview, TOM)

        # After the restart the phone delivers the first message's id again, as WhatsApp does
        # when an acknowledgement was lost.
        again = await ControlClient(paths).call(
            "POST",
            "/api/simulate/inbound",
            InboundResponse,
            InboundRequest(sender=TOM, text="Rent is due", message_id=first["id"]),
        )
        assert again.id == first["id"]
        # The engine is alive: a new message in Maria's chat is answered...
        await call(client, "simulate_incoming_message", sender=MARIA, text="Coffee later?")
        await wait_until(lambda: auto_replies(client, MARIA), timeout=30)
        # ...while Tom's re-delivered message, decided before the restart, is not.
        # Each check says what it saw, so a rare failure under load names its cause.
        tom_replies = await auto_replies(client, TOM)
        assert len(tom_replies) == 1, tom_replies
        prompts = [r.prompt[-120:] for r in fake_gemini.requests]
        assert len(prompts) == 2, prompts
        assert (TOM, first["id"], "sent") in ledger(paths), ledger(paths)
        assert [state for chat, _, state in ledger(paths) if chat == TOM] == ["sent"], ledger(paths)
