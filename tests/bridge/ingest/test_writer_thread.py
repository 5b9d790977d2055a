"""The writer thread opens each feature's own store: a store that cannot be opened turns only
that feature off, logged, and the bridge's one writer keeps working."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bridge.ingest.writer_thread import WriterThread
from store.autoreply import AutoReplyStore
from store.db import open_writer
from store.writer import StoreWriter

pytestmark = pytest.mark.anyio


async def test_a_feature_whose_store_cannot_be_opened_stays_off_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = tmp_path / "messages.db"
    conn = open_writer(good)
    thread = WriterThread(StoreWriter(conn))
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an SQLite database\n" * 200)
    try:
        with caplog.at_level(logging.ERROR, logger="bridge.ingest.writer_thread"):
            assert await thread.open_feature(garbage, AutoReplyStore, "auto-reply") is None
        assert "the bridge runs without auto-reply" in caplog.text
        # The same call on a healthy file gives a working store on the writer thread.
        store = await thread.open_feature(good, AutoReplyStore, "auto-reply")
        assert store is not None and await thread.run(store.rules) == []
        await thread.run(store.close)
    finally:
        thread.close()
        conn.close()
