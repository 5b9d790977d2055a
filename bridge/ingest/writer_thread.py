"""Serialises every store write onto one thread, so the event loop never blocks on SQLite and
there is exactly one writer."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from store.db import open_writer
from store.errors import StoreError
from store.writer import StoreWriter

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger(__name__)


class WriterThread:
    def __init__(self, writer: StoreWriter) -> None:
        self.writer = writer
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def open_feature(
        self, path: Path, make: Callable[[sqlite3.Connection], R], feature: str
    ) -> R | None:
        """A feature's own store (auto-reply, schedules, transcripts) on its own connection,
        opened and recovered on this thread. None, logged, when its tables cannot be opened:
        the bridge still serves reads and sends, and only that feature stays off."""
        try:
            return await self.run(lambda: make(open_writer(path)))
        except (StoreError, sqlite3.Error):
            log.exception("the bridge runs without %s: its tables cannot be opened", feature)
            return None

    def close(self) -> None:
        self._executor.shutdown(wait=True)
