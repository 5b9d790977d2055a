"""get_digest on the seeded simulated world, through the real bridge and a real MCP client.

Expectations are read from the store file itself (which chats have unread messages, who wrote
last), so the test states the rule, not a copy of the seed."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bridge.paths import DataPaths
from bridge.settings import Settings
from bridge.transport.protocol import MessageEvent
from mcp_server.server import build_server
from store.models import MessageRecord
from tests.harness import (
    FAMILY,
    KENJI,
    ME,
    autoreply_settings,
    inprocess_bridge,
    sim,
    wait_until,
)
from tests.helpers import call

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return autoreply_settings(data_dir)


def last_messages(paths: DataPaths) -> dict[str, tuple[bool, str | None, int]]:
    """chat → (I wrote last, its text, unread count), over the last 7 days."""
    conn = sqlite3.connect(f"{paths.messages_db.resolve().as_uri()}?mode=ro", uri=True)
    week_ago = int((datetime.now(UTC) - timedelta(days=7)).timestamp() * 1000)
    try:
        rows = conn.execute(
            """
            SELECT c.jid, c.unread_count,
                   (SELECT is_from_me FROM messages m WHERE m.chat_jid = c.jid
                    ORDER BY timestamp DESC, seq DESC LIMIT 1),
                   (SELECT content FROM messages m WHERE m.chat_jid = c.jid
                    ORDER BY timestamp DESC, seq DESC LIMIT 1)
            FROM chats c WHERE c.last_message_at >= ?
            """,
            (week_ago,),
        ).fetchall()
    finally:
        conn.close()
    return {str(j): (bool(mine), text, int(unread)) for j, unread, mine, text in rows}


async def test_the_digest_lists_what_needs_me_and_nothing_where_i_answered_last(
    settings: Settings,
) -> None:
    async with inprocess_bridge(settings) as bridge:
        # History arrives in batches: wait until the whole seeded world is stored.
        await wait_until(lambda: bridge.reader.counts().messages >= 250)
        facts = last_messages(bridge.paths)
        unread = {j for j, (_, _, n) in facts.items() if n > 0}
        answered = {j for j, (mine, _, n) in facts.items() if mine and n == 0}
        questions = {j for j, (mine, text, _) in facts.items() if not mine and "?" in (text or "")}
        assert unread and answered and questions  # the seeded world has all three

        async with Client(build_server(settings), cache=None) as client:
            digest = await call(client, "get_digest")
            by_chat: dict[str, dict[str, Any]] = {c["chat_jid"]: c for c in digest["chats"]}
            assert unread <= set(by_chat)
            assert not answered & set(by_chat)
            for jid in unread:
                assert by_chat[jid]["unread"] == facts[jid][2]
            for jid in questions:
                waiting = by_chat[jid]["waiting"]
                assert waiting is not None and waiting["is_question"], by_chat[jid]
                assert waiting["preview"].endswith("?") or "?" in waiting["preview"]
            # What waits for an answer comes before what is merely unread.
            first = digest["chats"][0]
            assert first["waiting"] is not None and first["waiting"]["is_question"]

            # A mention of me in a group, and a pending schedule where I answered last.
            await sim(bridge).inject_event(
                MessageEvent(
                    message=MessageRecord(
                        id="3EB0MENTION000000001",
                        chat_jid=FAMILY,
                        sender="447700900014@s.whatsapp.net",
                        content="@15550000000 can you bring the cake?",
                        mentions=[ME],
                        timestamp=datetime.now(UTC) - timedelta(hours=1),
                    )
                )
            )
            await wait_until(lambda: _stored(bridge.reader, FAMILY, "3EB0MENTION000000001"))
            at = (datetime.now(UTC) + timedelta(days=2)).isoformat()
            await call(client, "schedule_message", to=KENJI, text="Football tonight?", at=at)
            again = {c["chat_jid"]: c for c in (await call(client, "get_digest"))["chats"]}
            assert again[FAMILY]["mentions_of_me"] == 1
            assert again[FAMILY]["waiting"]["id"] == "3EB0MENTION000000001"
            assert again[KENJI]["scheduled_pending"] == 1 and again[KENJI]["waiting"] is None

            # A scheduled send that did not go out (the bridge was down past the grace period)
            # brings back a chat where I answered last: the user believes it was sent.
            quiet = sorted(answered)[0]

            def missed_one() -> None:
                store = bridge.scheduler.store()
                due = datetime.now(UTC) - timedelta(hours=2)
                item = store.add(quiet, "Happy birthday!", None, due, "UTC")
                assert store.miss(item.id, "The bridge was not running at the time.")

            await bridge.writer.run(missed_one)
            third = await call(client, "get_digest")
            [entry] = [c for c in third["chats"] if c["chat_jid"] == quiet]
            assert entry["scheduled_not_sent"] == 1 and "did not go out" in entry["why"]
            # It needs the user more than chats that are merely unread.
            order = [c["chat_jid"] for c in third["chats"]]
            merely_unread = [
                c["chat_jid"]
                for c in third["chats"]
                if c["unread"] and c["waiting"] is None and not c["mentions_of_me"]
            ]
            assert all(order.index(quiet) < order.index(j) for j in merely_unread)
            # Outside the window asked for, it is not news any more.
            later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
            newer = await call(client, "get_digest", since=later)
            assert all(c["scheduled_not_sent"] == 0 for c in newer["chats"])

            prompt = await client.get_prompt("catch_up", {})
            text = prompt.messages[0].content.text  # type: ignore[union-attr]
            assert (
                "What likely needs me" in text and "<chat-data-" in text
            )  # a fresh fence per call


def _stored(reader: Any, chat: str, mid: str) -> bool:
    try:
        reader.get_message(chat, mid)
        return True
    except Exception:
        return False
