"""import_chat_export through a real MCP client and a real bridge on simulated WhatsApp: the
import meets synced history, shows up in search and in chat order, and reports its progress."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mcp import Client

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError
from bridge.control.importing import ImportRequest, import_progress, import_via_bridge
from bridge.paths import DataPaths
from bridge.settings import Settings, load_settings
from mcp_server.server import build_server
from store.db import open_reader
from tests.helpers import call, error_of, eventually_async, sim_env, stop_bridge
from tests.store.chat_export.conftest import integrity_ok

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(data_dir: Path) -> Iterator[Settings]:
    s = load_settings(env=sim_env(data_dir))
    yield s
    stop_bridge(DataPaths(data_dir))


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings), cache=None) as c:

        async def ready() -> bool:
            status = await call(c, "get_status")
            return status["state"] == "connected" and bool((status["store"] or {}).get("messages"))

        await eventually_async(ready, timeout=30, interval=0.1, what="a connected, seeded bridge")
        yield c


def _synced_message(db: Path) -> tuple[str, str, str, int]:
    """(chat JID, contact name, text, timestamp ms) of a synced message someone sent me."""
    conn = open_reader(db)
    try:
        row = conn.execute(
            "SELECT m.chat_jid, c.saved_name, m.content, m.timestamp FROM messages m "
            "JOIN contacts c ON c.jid = m.chat_jid WHERE m.is_from_me = 0 AND m.kind = 'text' "
            "AND c.saved_name IS NOT NULL AND m.content NOT LIKE '%' || char(10) || '%' "
            "ORDER BY m.timestamp LIMIT 1"
        ).fetchone()
        return str(row[0]), str(row[1]), str(row[2]), int(row[3])
    finally:
        conn.close()


def _line(ms: int, who: str, text: str) -> str:
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return f"{t:%d/%m/%Y, %H:%M} - {who}: {text}"


async def test_import_merges_with_synced_history_and_is_searchable(
    client: Client, settings: Settings
) -> None:
    paths = DataPaths(settings.data_dir)
    chat, name, text, ts = _synced_message(paths.messages_db)
    older = ts - int(timedelta(days=400).total_seconds() * 1000)
    imports = paths.root / "imports"
    imports.mkdir()
    export = imports / f"WhatsApp Chat with {name}.txt"
    export.write_text(
        "\n".join(
            [
                _line(older, name, "the pineapple story, from long ago"),
                "99/99/2020, 10:00 - broken line",
                _line(older + 60_000, "Robin", "I remember the pineapple"),
                _line(ts, name, text),  # already synced: skipped
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    ticks: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        ticks.append((progress, total))

    result = await client.call_tool(
        "import_chat_export",
        {"path": export.name, "timezone": "UTC", "date_order": "dmy"},
        progress_callback=on_progress,
    )
    assert not result.is_error, result.content
    report = dict(result.structured_content or {})
    assert (report["chat_jid"], report["imported"], report["already_present"]) == (chat, 2, 1)
    assert report["senders"] == {name: chat, "Robin": "me"}
    assert [(b["line"], b["reason"].split(":")[0]) for b in report["bad_lines"]] == [
        (2, "bad date/time")
    ]
    assert ticks and ticks[-1] == (3, 3)

    again = await call(
        client, "import_chat_export", path=str(export), timezone="UTC", date_order="dmy"
    )
    assert (again["imported"], again["already_present"]) == (0, 3)

    hits = await call(client, "search_messages", query="pineapple")
    found = hits["items"]
    assert len(found) == 2 and {m.get("source") for m in found} == {"import"}

    page = await call(client, "list_messages", chat=chat, order="oldest", limit=5)
    items = page["items"]
    assert [m.get("text") for m in items[:2]] == [
        "the pineapple story, from long ago",
        "I remember the pineapple",
    ]
    assert items[1].get("from_me") is True
    # The synced neighbours carry no source; the one synced copy of the overlap is kept.
    assert all(m.get("source") is None for m in items[2:])
    conn = sqlite3.connect(paths.messages_db)
    try:
        same = conn.execute(
            "SELECT count(*) FROM messages WHERE chat_jid = ? AND content = ?", (chat, text)
        ).fetchone()[0]
        assert same == 1
        integrity_ok(conn)
    finally:
        conn.close()


async def test_a_path_outside_the_import_folder_is_refused(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    outside = tmp_path / "WhatsApp Chat with Someone.txt"
    outside.write_text("12/03/2024, 14:05 - Someone: hi\n", encoding="utf-8")
    err = await error_of(client, "import_chat_export", path=str(outside))
    assert "outside the import folder" in err and "path" in err
    assert str(settings.data_dir / "imports") in err
    err = await error_of(client, "import_chat_export", path="../../etc/passwd")
    assert "'..'" in err


async def test_the_bridge_reports_an_import_jobs_progress(
    client: Client, settings: Settings
) -> None:
    paths = DataPaths(settings.data_dir)
    chat, name, _text, ts = _synced_message(paths.messages_db)
    imports = paths.root / "imports"
    imports.mkdir()
    (imports / "many.txt").write_text(
        "\n".join(_line(ts - 86_400_000 + i * 60_000, name, f"line {i}") for i in range(500))
        + "\n",
        encoding="utf-8",
    )
    bridge = ControlClient(paths)
    report = await import_via_bridge(
        bridge,
        ImportRequest(path="many.txt", chat=chat, timezone="UTC", date_order="dmy", job="j1"),
    )
    assert report.imported == 500
    done = await import_progress(bridge, "j1")
    assert (done.stage, done.done, done.total) == ("done", 500, 500)
    with pytest.raises(BridgeError) as err:
        await import_progress(bridge, "nope")
    assert err.value.code == "not_found"
