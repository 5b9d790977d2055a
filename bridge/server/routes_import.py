"""Control API for importing chat exports: the bridge is the only writer, so imports run here.

Each chunk of rows is written as its own job on the writer thread, so live messages keep flowing
during a long import; the caller can follow along through `/api/import/progress`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bridge.control.importing import (
    ImportProgress,
    ImportProgressRequest,
    ImportReport,
    ImportRequest,
    check_import_path,
    import_roots,
)
from bridge.server.app import Route
from store.chat_export import load
from store.chat_export.run import Prepared, prepare
from store.db import open_reader
from store.errors import NotFound
from store.reader import StoreReader

if TYPE_CHECKING:
    from bridge.daemon import Bridge

log = logging.getLogger(__name__)

_KEEP_JOBS = 32


def routes(bridge: Bridge) -> list[Route]:
    imports = Imports(bridge)
    return [
        Route("POST", "/api/import", imports.run, ImportRequest),
        Route("POST", "/api/import/progress", imports.progress, ImportProgressRequest),
    ]


class Imports:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.jobs: OrderedDict[str, ImportProgress] = OrderedDict()

    def _track(self, job: str | None, **fields: object) -> None:
        if job is None:
            return
        current = self.jobs.get(job) or ImportProgress(job=job, stage="pending")
        self.jobs[job] = current.model_copy(update=fields)
        while len(self.jobs) > _KEEP_JOBS:
            self.jobs.popitem(last=False)

    async def progress(self, req: ImportProgressRequest) -> ImportProgress:
        found = self.jobs.get(req.job)
        if found is None:
            raise NotFound(f"No import job {req.job!r}; it has not started or finished long ago.")
        return found

    async def run(self, req: ImportRequest) -> ImportReport:
        b = self.bridge
        roots = import_roots(b.settings.import_roots, b.settings.data_dir)
        path = check_import_path(req.path, roots)
        self._track(req.job, stage="parsing")
        writer = b.writer.writer
        account = await b.writer.run(writer.get_kv, "account_jid")

        def prepare_in_thread() -> Prepared:
            # Its own read connection: the bridge's reader serves the event loop meanwhile.
            conn = open_reader(b.paths.messages_db)
            try:
                return prepare(
                    path,
                    StoreReader(conn),
                    chat=req.chat,
                    my_name=req.my_name,
                    timezone=req.timezone,
                    date_order=req.date_order,
                    media_dir=b.paths.media,
                    account_jid=account,
                    resolve_jid=writer.resolve_jid,
                )
            finally:
                conn.close()

        try:
            prepared = await asyncio.to_thread(prepare_in_thread)
            total = len(prepared.rows)
            self._track(req.job, stage="writing", total=total)
            new = 0
            done = 0
            for chunk in load.chunks(prepared.rows):
                new += await b.writer.run(self._write, chunk, prepared.chats)
                done += len(chunk)
                self._track(req.job, done=done)
            await b.writer.run(load.write_reactions, writer, prepared.reactions)
        except BaseException:
            self._track(req.job, stage="failed")
            raise
        self._track(req.job, stage="done")
        report = prepared.report.model_copy(
            update={"imported": new, "already_present": total - new}
        )
        log.info(
            "imported %d of %d messages from %s into %s (%d unreadable lines)",
            new,
            total,
            path.name,
            report.chat_jid or "their chats",
            report.bad_line_count,
        )
        return report

    def _write(self, rows: Sequence[load.Row], chats: list[tuple[str, str | None, bool]]) -> int:
        return load.write_rows(self.bridge.writer.writer, rows, chats)
