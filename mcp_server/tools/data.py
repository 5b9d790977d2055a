"""Importing the phone's "Export chat" files: years of history a linked device never receives.

The bridge does the import (it is the only writer); this tool checks the path first for a quick,
clear error, then follows the bridge's progress and passes it on as progress notifications.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from bridge.control.errors import BridgeError
from bridge.control.importing import (
    ImportReport,
    ImportRequest,
    check_import_path,
    import_progress,
    import_roots,
    import_via_bridge,
)
from mcp_server.app import App
from mcp_server.errors import tool_errors

# Writes only to the local store, changes nothing on WhatsApp; importing twice changes nothing.
IMPORT = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
POLL_SECONDS = 0.25


def register(server: MCPServer, app: App) -> None:
    @server.tool(annotations=IMPORT)
    async def import_chat_export(
        ctx: Context,
        path: Annotated[
            str,
            Field(
                min_length=1,
                max_length=4096,
                description="The .txt/.zip (or whatsapp-mcp export .jsonl) in the import folder"
                " (default: the data dir's imports/).",
            ),
        ],
        chat: Annotated[
            str | None,
            Field(
                max_length=200,
                description="Chat id, phone or name; omit if the file name has it.",
            ),
        ] = None,
        my_name: Annotated[
            str | None,
            Field(
                max_length=200,
                description="The user's name in the export, if not detected (see senders in the"
                " result).",
            ),
        ] = None,
        timezone: Annotated[
            str | None,
            Field(
                max_length=64,
                description="IANA zone of the times; default: this computer's.",
            ),
        ] = None,
        date_order: Annotated[
            Literal["dmy", "mdy", "ymd"] | None,
            Field(description="Only when the result asks (dmy = 31/12/24)."),
        ] = None,
    ) -> ImportReport:
        """Import a chat's history from the phone's "Export chat" file (Android or iOS, any
        language) that the user put in the import folder. Safe to repeat (known
        messages are skipped); unreadable lines are listed, the rest imported (source
        "import"). Changes nothing on WhatsApp."""
        with tool_errors():
            roots = import_roots(app.settings.import_roots, app.settings.data_dir)
            check_import_path(path, roots)
            client = await app.bridge()
            job = uuid.uuid4().hex
            req = ImportRequest(
                path=path,
                chat=chat,
                my_name=my_name,
                timezone=timezone,
                date_order=date_order,
                job=job,
            )
            finished = anyio.Event()

            async def follow() -> None:
                last = -1
                while not finished.is_set():
                    with anyio.move_on_after(POLL_SECONDS):
                        await finished.wait()
                    if finished.is_set():
                        return
                    try:
                        p = await import_progress(client, job)
                    except BridgeError:
                        continue
                    if p.stage == "writing" and p.done != last:
                        last = p.done
                        await ctx.report_progress(p.done, p.total, "importing messages")

            report: ImportReport | None = None
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow)
                try:
                    report = await import_via_bridge(client, req)
                finally:
                    finished.set()
            assert report is not None  # the call returned, or its error left the block
            await ctx.report_progress(
                report.messages_in_file, report.messages_in_file, "import finished"
            )
        return report
