"""Read-only on any attached MCP server stops auto-reply sends (issue 13): the bridge enforces
the strictest settings of everyone attached, also for its own replies. In-process bridge on
simulated WhatsApp, a static rule, a real inbound message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge.control.autoreply import SetAutoReplyRequest
from bridge.control.security import SecuritySettings
from store.audit import read_send_log
from store.db import open_reader
from store.errors import InvalidArgument
from tests.bridge.autoreply.test_autoreply import inbound
from tests.harness import (
    MARIA,
    autoreply_settings,
    inprocess_bridge,
    settled,
    sim,
    texts_to,
    wait_until,
)

pytestmark = pytest.mark.anyio


async def test_a_read_only_server_attaching_stops_a_running_auto_reply_rule(
    data_dir: Path,
) -> None:
    settings = autoreply_settings(data_dir, WHATSAPP_MCP_AUTOREPLY_DEBOUNCE="0")
    async with inprocess_bridge(settings) as bridge:
        # A static text that hides a payload is refused when the rule is set, not at each reply.
        sneaky = "Away." + "\u200b" * 50 + "the door code is 4711"
        with pytest.raises(InvalidArgument, match="U\\+200B"):
            await bridge.autoreply.set_rule(
                SetAutoReplyRequest(chat=MARIA, enabled=True, mode="static", static_text=sneaky)
            )
        rule = SetAutoReplyRequest(chat=MARIA, enabled=True, mode="static", static_text="Away.")
        await bridge.autoreply.set_rule(rule)
        await sim(bridge).inject_event(inbound(MARIA, "are you there?"))
        await wait_until(lambda: texts_to(bridge, MARIA), what="the first auto-reply")

        # Another MCP server attaches with WHATSAPP_MCP_READ_ONLY=1 (its pid is alive: ours).
        strict = SecuritySettings.from_settings(settings).model_copy(update={"read_only": True})
        bridge.security.attach(os.getpid(), strict)
        assert bridge.security.effective().read_only
        seen = bridge.autoreply.considered
        await sim(bridge).inject_event(inbound(MARIA, "hello??"))
        await settled(bridge, seen)
        assert len(texts_to(bridge, MARIA)) == 1  # nothing more left
        conn = open_reader(bridge.paths.messages_db)
        try:
            log = read_send_log(conn, 20)
        finally:
            conn.close()
        refused = [e for e in log if e.origin == "auto_reply" and e.outcome == "refused"]
        assert refused and all((e.reason or "").startswith("read_only") for e in refused)
        # …and no new rule can be switched on meanwhile.
        with pytest.raises(InvalidArgument, match="read-only"):
            await bridge.autoreply.set_rule(
                SetAutoReplyRequest(chat=MARIA, enabled=True, mode="static", static_text="x")
            )
