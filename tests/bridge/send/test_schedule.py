"""Scheduled sends through the real bridge daemon (in this process, on simulated WhatsApp),
scheduled and inspected with a real MCP client: fired at their time through the send gate with
origin `scheduled`, refused at fire time by the policy of that moment, kept across a restart,
and marked missed (never sent late) when the bridge was down past the grace period."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from mcp import Client

from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.server import build_server
from store.db import open_writer
from store.scheduled import ScheduleStore
from tests.harness import (
    MARIA,
    TOM,
    autoreply_settings,
    inprocess_bridge,
    sim,
    texts_to,
    wait_until,
)
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio

STRANGER = "4915799912345@s.whatsapp.net"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return autoreply_settings(data_dir)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds")


async def scheduled(client: Client, schedule_id: int) -> dict[str, Any]:
    listing = await call(client, "list_scheduled")
    return next(i for i in listing["items"] if i["id"] == schedule_id)


async def state_is(client: Client, schedule_id: int, *states: str) -> dict[str, Any] | None:
    item = await scheduled(client, schedule_id)
    return item if item["state"] in states else None


def send_log(paths: DataPaths) -> list[tuple[str, str, str, str | None]]:
    conn = sqlite3.connect(f"{paths.messages_db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT origin, recipient, outcome, message_id FROM send_log ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return [(str(a), str(b), str(c), None if d is None else str(d)) for a, b, c, d in rows]


def stamped_at(paths: DataPaths, message_id: str) -> datetime:
    """When the store says a message was sent, to the millisecond."""
    conn = sqlite3.connect(f"{paths.messages_db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (ms,) = conn.execute(
            "SELECT timestamp FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
    finally:
        conn.close()
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


async def test_a_message_scheduled_3_s_ahead_is_sent_then_through_the_gate(
    settings: Settings,
) -> None:
    async with inprocess_bridge(settings) as bridge:
        async with Client(build_server(settings), cache=None) as client:
            at = bridge.scheduler.clock() + timedelta(seconds=3)
            item = await call(
                client, "schedule_message", to=TOM, text="Rent is on its way 🏠", at=iso(at)
            )
            assert item["state"] == "pending" and item["to"] == TOM
            assert "UTC" in item["when_utc"] and item["when"]
            assert (await call(client, "list_scheduled"))["pending"] == 1

            done = await wait_until(lambda: state_is(client, item["id"], "sent"), timeout=30)
            [sent] = texts_to(bridge, TOM)
            assert sent.text == "Rent is on its way 🏠"
            # The bridge's clock stamped the send: on time, within a second.
            chat = await call(client, "list_messages", chat=TOM, limit=1)
            [message] = chat["items"]
            assert message["id"] == done["message_id"] and message.get("from_me") is True
            # The result's time is cut to the second: the store keeps the milliseconds.
            fired = stamped_at(bridge.paths, message["id"])
            assert abs((fired - at).total_seconds()) <= 1.0, (fired, at)
            shown = datetime.fromisoformat(message["time"])
            assert shown == fired.replace(microsecond=0), (shown, fired)
            assert ("scheduled", TOM, "sent", done["message_id"]) in send_log(bridge.paths)


async def test_a_schedule_to_a_stranger_is_refused_at_fire_time_and_shown(
    settings: Settings,
) -> None:
    async with inprocess_bridge(settings) as bridge:
        async with Client(build_server(settings), cache=None) as client:
            at = bridge.scheduler.clock() + timedelta(seconds=1)
            # Accepted now: who may receive it is judged when it fires.
            item = await call(client, "schedule_message", to=STRANGER, text="Hi!", at=iso(at))
            refused = await wait_until(lambda: state_is(client, item["id"], "refused"), timeout=30)
            assert "recipient" in refused["detail"] or "contact" in refused["detail"]
            assert texts_to(bridge, STRANGER) == []
            assert ("scheduled", STRANGER, "refused", None) in send_log(bridge.paths)


async def test_bad_times_are_refused_with_a_time_that_works(settings: Settings) -> None:
    async with inprocess_bridge(settings):
        async with Client(build_server(settings), cache=None) as client:
            naive = await error_of(
                client, "schedule_message", to=TOM, text="x", at="2030-01-01 08:00"
            )
            assert "no offset or time zone" in naive and "Europe/Berlin" in naive
            past = await error_of(
                client, "schedule_message", to=TOM, text="x", at="2020-01-01T08:00Z"
            )
            assert "already passed" in past
            junk = await error_of(client, "schedule_message", to=TOM, text="x", at="tomorrow")
            assert "at='tomorrow'" in junk
            day = (datetime.now(UTC) + timedelta(days=200)).date()
            named = await call(
                client,
                "schedule_message",
                to=TOM,
                text="Merry Christmas",
                at=f"{day.isoformat()} 08:00 Europe/Berlin",
            )
            berlin = datetime(day.year, day.month, day.day, 8, tzinfo=ZoneInfo("Europe/Berlin"))
            assert named["when_utc"] == f"{berlin.astimezone(UTC):%a %d %b %Y %H:%M} UTC"
            cancelled = await call(client, "cancel_scheduled", id=named["id"])
            assert cancelled["state"] == "cancelled"
            again = await error_of(client, "cancel_scheduled", id=named["id"])
            assert "already cancelled" in again


async def test_a_schedule_survives_a_bridge_restart(settings: Settings) -> None:
    async with inprocess_bridge(settings) as bridge:
        at = bridge.scheduler.clock() + timedelta(seconds=4)
        async with Client(build_server(settings), cache=None) as client:
            item = await call(client, "schedule_message", to=MARIA, text="See you at 8", at=iso(at))
    # The first bridge has stopped before the time came: the schedule waits in the store.
    conn = sqlite3.connect(f"{bridge.paths.messages_db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        [(state,)] = conn.execute(
            "SELECT state FROM scheduled_messages WHERE id = ?", (item["id"],)
        ).fetchall()
    finally:
        conn.close()
    assert state == "pending"
    # A new bridge fires it.
    async with inprocess_bridge(settings) as bridge:
        async with Client(build_server(settings), cache=None) as client:
            done = await wait_until(lambda: state_is(client, item["id"], "sent"), timeout=30)
            assert [t.text for t in texts_to(bridge, MARIA)] == ["See you at 8"]
            assert done["message_id"]


async def test_a_send_whose_time_passed_while_the_bridge_was_down_is_marked_missed(
    settings: Settings,
) -> None:
    paths = DataPaths(settings.data_dir)
    paths.ensure()
    now = datetime.now(UTC)
    store = ScheduleStore(open_writer(paths.messages_db))
    try:
        # Due an hour ago (past the 600 s grace) and ten seconds ago (within it).
        old = store.add(TOM, "Too late", None, now - timedelta(hours=1), "UTC")
        recent = store.add(MARIA, "Just in time", None, now - timedelta(seconds=10), "UTC")
    finally:
        store.close()
    async with inprocess_bridge(settings) as bridge:
        async with Client(build_server(settings), cache=None) as client:
            missed = await wait_until(lambda: state_is(client, old.id, "missed"), timeout=30)
            assert "not running" in missed["detail"] and "grace" in missed["detail"]
            await wait_until(lambda: state_is(client, recent.id, "sent"), timeout=30)
            assert texts_to(bridge, TOM) == []
            assert [t.text for t in texts_to(bridge, MARIA)] == ["Just in time"]


async def test_a_due_send_waits_for_whatsapp_within_the_grace_period_then_is_missed(
    data_dir: Path,
) -> None:
    settings = autoreply_settings(data_dir, WHATSAPP_MCP_SCHEDULE_GRACE="1")
    async with inprocess_bridge(settings) as bridge:
        await sim(bridge).logout()  # WhatsApp is not connected when the time comes
        async with Client(build_server(settings), cache=None) as client:
            at = bridge.scheduler.clock() + timedelta(seconds=1)
            item = await call(client, "schedule_message", to=TOM, text="Hello", at=iso(at))
            missed = await wait_until(lambda: state_is(client, item["id"], "missed"), timeout=30)
            assert "WhatsApp was not connected" in missed["detail"]
            assert texts_to(bridge, TOM) == []
