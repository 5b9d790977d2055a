"""A damaged or too-new message store is contained: typed errors (StoreCorrupt, SchemaTooNew)
instead of raw SQLite ones, reads that keep working where the damage allows, a get_status that
explains the problem, a bridge that refuses to start with one clear log line, a supervisor that
does not restart it in a loop, and a WhatsApp session (session.db) that is never touched.
"""

from __future__ import annotations

import collections
import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bridge.ingest.events import apply_event
from bridge.main import EXIT_STORE_UNUSABLE
from bridge.paths import DataPaths
from bridge.settings import load_settings
from mcp_server.app import App
from mcp_server.server import build_server
from mcp_server.supervision import supervisor as supervisor_module
from store.db import open_reader, open_writer
from store.errors import SchemaTooNew, StoreCorrupt, StoreError
from store.reader import StoreReader
from store.schema import SCHEMA_VERSION
from store.writer import StoreWriter
from tests.harness import TOM
from tests.helpers import eventually_async, sim_env, stop_bridge
from tests.reliability.sizes import scaled
from tests.reliability.stream import build_stream

PAGE = 4096


def make_store(path: Path) -> None:
    """A realistic store (a few thousand messages), checkpointed into the main file."""
    conn = open_writer(path)
    writer = StoreWriter(conn)
    for ev in build_stream(5, 2500).events:
        apply_event(writer, ev)
    writer.set_kv("transport_kind", "simulated")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def flip(path: Path, rng: random.Random, *, page: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    pg = page if page is not None else rng.randrange(1, len(data) // PAGE)
    for _ in range(rng.randint(1, 16)):
        off = pg * PAGE + rng.randrange(PAGE)
        data[off] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))


def _read_everything(reader: StoreReader) -> list[Callable[[], object]]:
    return [
        reader.counts,
        lambda: reader.list_chats(limit=100),
        lambda: reader.list_messages(limit=200),
        lambda: reader.search_messages("pizza", limit=50),
        lambda: reader.search_contacts("push", limit=50),
        lambda: [
            reader.list_messages(chat_jid=c.jid, limit=200)
            for c in reader.list_chats(limit=100).items
        ],
    ]


@pytest.mark.slow
def test_damaged_pages_give_typed_errors_and_reads_elsewhere_keep_working(tmp_path: Path):
    pristine = tmp_path / "pristine.db"
    make_store(pristine)
    rng = random.Random(99)
    outcomes: collections.Counter[str] = collections.Counter()
    raw: list[str] = []
    variants = scaled(40)
    for n in range(variants):
        copy = tmp_path / f"damaged-{n}.db"
        shutil.copy(pristine, copy)
        flip(copy, rng)
        try:
            reader = StoreReader(open_reader(copy))
        except StoreError as exc:
            outcomes[f"open: {type(exc).__name__}"] += 1
            continue
        ops = _read_everything(reader)
        for op in ops:
            try:
                op()
                outcomes["ok"] += 1
            except StoreError as exc:
                outcomes[type(exc).__name__] += 1
            except Exception as exc:  # the failure this test exists to catch
                raw.append(f"variant {n}: {exc!r}"[:300])
    print(f"{variants} damaged copies: {dict(outcomes)}")
    assert raw == [], raw[:5]
    assert outcomes["StoreCorrupt"] > 0 and outcomes["ok"] > 0, outcomes


def _damage_header(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.write(b"this is not sqlite")  # over the 16-byte magic string


def _make_too_new(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()


DAMAGE = {
    "corrupt": (_damage_header, StoreCorrupt, "damaged"),
    "too_new": (_make_too_new, SchemaTooNew, "schema version"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_the_bridge_refuses_a_damaged_store_clearly_and_never_touches_the_session(
    data_dir: Path, kind: str
):
    damage, error, needle = DAMAGE[kind]
    paths = DataPaths(data_dir)
    paths.ensure()
    make_store(paths.messages_db)
    paths.session_db.write_bytes(os.urandom(8192))
    session = hashlib.sha256(paths.session_db.read_bytes()).hexdigest()
    session_mtime = paths.session_db.stat().st_mtime_ns
    damage(paths.messages_db)
    with pytest.raises(error):
        open_reader(paths.messages_db)

    with open(paths.log, "ab") as log:
        proc = subprocess.run(
            [sys.executable, "-m", "bridge", "--idle-exit", "5"],
            env=sim_env(data_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            timeout=60,
        )
    assert proc.returncode == EXIT_STORE_UNUSABLE
    text = paths.log.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "cannot start" in line]
    assert len(lines) == 1 and needle in lines[0], text[-2000:]
    assert "Traceback" not in text
    assert hashlib.sha256(paths.session_db.read_bytes()).hexdigest() == session
    assert paths.session_db.stat().st_mtime_ns == session_mtime


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("kind", sorted(DAMAGE))
async def test_the_mcp_server_degrades_and_does_not_restart_the_bridge_in_a_loop(
    data_dir: Path, kind: str, monkeypatch: pytest.MonkeyPatch
):
    damage, _, needle = DAMAGE[kind]
    paths = DataPaths(data_dir)
    paths.ensure()
    make_store(paths.messages_db)
    pristine = data_dir.parent / "pristine.db"
    shutil.copy(paths.messages_db, pristine)
    damage(paths.messages_db)
    monkeypatch.setattr(supervisor_module, "_DOWN_RETRY", 2.0)
    settings = load_settings(env=sim_env(data_dir))
    app = App(settings)
    async with Client(build_server(settings, app=app), cache=None) as client:

        async def status() -> dict[str, Any]:
            r = await client.call_tool("get_status", {})
            assert not r.is_error, r.content  # degraded, never failed
            return dict(r.structured_content or {})

        await eventually_async(
            lambda: (
                app.supervisor.spawned > 0
                and not app.supervisor.healthy
                and app.supervisor.last_error is not None
            ),
            timeout=30,
            what="the supervisor giving up on the damaged store",
        )
        st = await status()
        assert st["state"] == "bridge_unavailable" and not st["bridge_running"]
        assert needle in (st["store_error"] or ""), st
        assert "cannot start" in st["advice"], st

        chats = await client.call_tool("list_chats", {"limit": 5})
        text = " ".join(getattr(c, "text", "") for c in chats.content)
        assert chats.is_error and needle in text, text
        started = time.monotonic()
        sent = await client.call_tool("send_message", {"to": TOM, "text": "hi"})
        text = " ".join(getattr(c, "text", "") for c in sent.content)
        # The store error itself (the recipient is looked up there first): clear, and at once.
        assert sent.is_error and needle in text, text
        assert time.monotonic() - started < settings.bridge_start_timeout / 2  # no start wait
        # Tools keep asking; within the retry period nothing is started again.
        for _ in range(5):
            await client.call_tool("get_status", {})
        assert app.supervisor.spawned == 1

        # Repaired (the file put back): the next tool call after the retry period brings
        # the bridge up, without anyone restarting the server.
        shutil.copy(pristine, paths.messages_db)
        for suffix in ("-wal", "-shm"):
            Path(str(paths.messages_db) + suffix).unlink(missing_ok=True)

        async def running() -> bool:
            return bool((await status())["bridge_running"])

        await eventually_async(running, timeout=30, interval=0.2, what="the bridge back up")
        assert app.supervisor.spawned == 2


@pytest.fixture(autouse=True)
def no_leftover_bridge(data_dir: Path) -> Iterator[None]:
    yield
    stop_bridge(DataPaths(data_dir))
