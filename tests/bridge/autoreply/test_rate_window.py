"""An auto-reply refused by a full rate window is never silently dropped: with the default send
limits, after three tool sends in a minute, the reply waits for the window and goes out, or (when
the window stays full past the message's staleness limit) is recorded as skipped with the reason,
visible in get_auto_reply and `whatsapp-mcp status`. No typing indicator without a reply."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mcp import Client

from bridge.control.autoreply import SetAutoReplyRequest
from bridge.control.models import SendTextRequest
from bridge.daemon import Bridge
from bridge.settings import Settings
from bridge.transport.protocol import MessageEvent
from mcp_server.commands.status import replies_today, rule_lines
from mcp_server.server import build_server
from store.autoreply import AutoReplyReader
from store.db import open_reader
from store.models import MessageRecord
from tests.harness import (
    MARIA,
    PRIYA,
    TOM,
    autoreply_settings,
    inprocess_bridge,
    sim,
    store_of,
    texts_to,
    wait_until,
)
from tests.helpers import call

pytestmark = pytest.mark.anyio

DEFAULT_LIMITS = {
    "WHATSAPP_MCP_SEND_PER_MINUTE": "3",
    "WHATSAPP_MCP_SEND_PER_HOUR": "20",
    "WHATSAPP_MCP_SEND_PER_DAY": "100",
    "WHATSAPP_MCP_SEND_MIN_INTERVAL": "8",
}


class FastClock:
    """The send gate's Clock (bridge/send/ratelimit.py) with waits that pass at once: a minute
    of rate window costs no test time. Wall time plus everything slept so far."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.offset += max(0.0, seconds)
        await asyncio.sleep(0)


def _inbound(chat: str, text: str) -> MessageEvent:
    return MessageEvent(
        message=MessageRecord(
            id=f"3EB0RATE{time.monotonic_ns() % 10**12:012d}",
            chat_jid=chat,
            sender=chat,
            content=text,
            timestamp=datetime.now(UTC),
        )
    )


@contextlib.asynccontextmanager
async def _bridge(data_dir: Path, **limits: str) -> AsyncIterator[tuple[Bridge, FastClock]]:
    settings = autoreply_settings(data_dir, **{**DEFAULT_LIMITS, **limits})
    async with inprocess_bridge(settings) as bridge:
        clock = FastClock()
        bridge.sender.gate.clock = clock
        bridge.sender.gate.limiter.clock = clock
        yield bridge, clock


async def _three_tool_sends(bridge: Bridge) -> None:
    for i in range(3):
        await bridge.sender.send_text(SendTextRequest(to=MARIA, text=f"Tool send {i}"))


def _settings(bridge: Bridge) -> Settings:
    return bridge.settings


async def test_the_reply_waits_for_the_minute_window_and_then_goes_out(data_dir: Path) -> None:
    async with _bridge(data_dir) as (bridge, clock):
        first_send = clock.now()
        await _three_tool_sends(bridge)
        await bridge.autoreply.set_rule(
            SetAutoReplyRequest(chat=TOM, enabled=True, mode="static", static_text="Back soon")
        )
        await sim(bridge).inject_event(_inbound(TOM, "Are you there?"))
        await wait_until(lambda: texts_to(bridge, TOM), what="the auto-reply")

        assert [t.text for t in texts_to(bridge, TOM)] == ["Back soon"]
        # It went out only once the minute of the first tool send had passed.
        assert clock.now() - first_send >= 55
        assert any(s > 30 for s in clock.slept)
        typing = [on for chat, on in sim(bridge).typing if chat == TOM]
        assert typing == [] or typing[0] is True  # typing, if any, came right before the send

        # The reply is stored before the ledger records it as sent (the same writer, next job).
        await wait_until(
            lambda: any(e.state == "sent" for e in store_of(bridge).ledger(TOM)),
            what="the ledger's 'sent'",
        )
        async with Client(build_server(_settings(bridge)), cache=None) as client:
            overview = await call(client, "get_auto_reply")
        [rule] = [r for r in overview["rules"] if r["chat"] == TOM]
        assert rule["stats"]["replies"] == 1 and rule["stats"]["skipped"] == 0


async def test_a_window_full_past_the_staleness_limit_is_recorded_as_skipped(
    data_dir: Path,
) -> None:
    # Three sends fill a 24-hour window: the next send is allowed long after the message is
    # stale (1 h), so waiting would answer nobody.
    async with _bridge(data_dir, WHATSAPP_MCP_SEND_PER_DAY="3") as (bridge, _clock):
        await _three_tool_sends(bridge)
        await bridge.autoreply.set_rule(
            SetAutoReplyRequest(chat=PRIYA, enabled=True, mode="static", static_text="Later")
        )
        await sim(bridge).inject_event(_inbound(PRIYA, "Hello?"))

        await wait_until(
            lambda: any(e.state == "skipped" for e in store_of(bridge).ledger(PRIYA)),
            what="the skip record",
        )
        assert texts_to(bridge, PRIYA) == []
        assert [on for chat, on in sim(bridge).typing if chat == PRIYA] == []

        async with Client(build_server(_settings(bridge)), cache=None) as client:
            overview = await call(client, "get_auto_reply")
        [rule] = [r for r in overview["rules"] if r["chat"] == PRIYA]
        assert rule["stats"]["skipped"] == 1
        assert rule["stats"]["last_skip_reason"].startswith("rate_limited")
        assert "stale" in rule["stats"]["last_skip_reason"]

        conn = open_reader(bridge.paths.messages_db)
        try:
            lines = rule_lines(
                AutoReplyReader(conn).rules(), replies_today(conn), datetime.now(UTC)
            )
        finally:
            conn.close()
        [line] = [ln for ln in lines if ln.strip().startswith(PRIYA)]
        assert "on, static" in line and "0 replies today" in line
        assert "last skipped: rate_limited" in line
        assert lines[-1].startswith("kill switch:")
