"""Serialises every store write onto one thread, so the event loop never blocks on SQLite and
there is exactly one writer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from store.writer import StoreWriter

P = ParamSpec("P")
R = TypeVar("R")


class WriterThread:
    def __init__(self, writer: StoreWriter) -> None:
        self.writer = writer
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
