"""get_status: the tool for diagnosing everything else, so it never fails and never overstates.

In particular it never says "connected, messages arrive live" over an empty store or while a
history sync is still filling it: the model would take an empty answer as the truth.
"""

from __future__ import annotations

import sqlite3
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from bridge.control.errors import BridgeError
from bridge.control.models import BridgeStatus
from bridge.control.security import SecuritySettings
from mcp_server.app import App
from mcp_server.presentation.views import CountsView, SyncView, counts_view
from mcp_server.readiness import sync_view
from store.errors import StoreError
from store.reader import StoreReader
from store.sync_state import SyncState


class Status(BaseModel):
    state: str = Field(
        description="connected, connecting, pairing, logged_out, outdated, banned, "
        "stream_replaced, disconnected or bridge_unavailable."
    )
    advice: str
    paired: bool | None = None
    account: str | None = None
    simulate: bool
    bridge_running: bool
    bridge_pid: int | None = None
    sync: SyncView | None = None
    store: CountsView | None = None
    store_error: str | None = None
    data_dir: str
    history_sync: SyncState | None = Field(  # issue 16
        default=None, description="History sync per type: chunks, chunk order, percent."
    )
    security: str | None = Field(  # issue 13
        default=None,
        description="Set when the bridge ran with other security settings than this server: "
        "whether it was restarted, or why sends are refused.",
    )
    enforced: SecuritySettings | None = Field(  # issue 13
        default=None,
        description="The security settings the bridge enforces now: the strictest of every "
        "attached MCP server.",
    )


def connected_advice(counts: CountsView | None, sync: SyncView | None) -> str | None:
    """What to say instead of "messages arrive live" when the store is not complete yet."""
    if sync is not None:
        pct = f" ({sync.progress}%)" if sync.progress is not None else ""
        return (
            f"Connected to WhatsApp; the history sync is still running{pct}, so older messages "
            "are still arriving and reads may be incomplete. New messages arrive live."
        )
    if counts is not None and counts.messages == 0:
        return (
            "Connected to WhatsApp, but no messages are stored yet: history arrives from the "
            "phone after pairing and can take minutes; new messages are stored as they arrive."
        )
    return None


def status_text(s: Status) -> str:
    lines = [f"{s.state}: {s.advice}"]
    if s.account:
        lines.append(f"Account {s.account}{' (simulated)' if s.simulate else ''}")
    if s.store is not None:
        c = s.store
        lines.append(f"Store: {c.chats} chats, {c.contacts} contacts, {c.messages} messages")
    if s.store_error:
        lines.append(f"Store unreadable: {s.store_error}")
    if s.history_sync is not None:
        kinds = ", ".join(
            f"{name} {p.chunks} chunk(s)" + (f" {p.progress}%" if p.progress is not None else "")
            for name, p in s.history_sync.types.items()
        )
        lines.append(f"History sync {s.history_sync.state}: {kinds}")
    if s.security:
        lines.append(f"Security: {s.security}")
    bridge = f"pid {s.bridge_pid}" if s.bridge_running else "not running"
    lines.append(f"Bridge {bridge}; data dir {s.data_dir}")
    return "\n".join(lines)


def register_status(server: MCPServer, app: App, annotations: ToolAnnotations) -> None:
    @server.tool(annotations=annotations)
    async def get_status() -> Annotated[CallToolResult, Status]:
        """Link state, pairing, account, history sync and store counts. Call first when
        something fails."""
        bridge_error: str | None = None
        bs: BridgeStatus | None = None
        enforced: SecuritySettings | None = None
        try:
            client = await app.supervisor.ready(timeout=3.0)
            bs = await client.status(timeout=3.0)
            enforced = (await client.health(timeout=3.0)).security
        except BridgeError as exc:
            bridge_error = exc.message
        counts: CountsView | None = None
        sync: SyncView | None = None
        store_error: str | None = None
        if app.paths.messages_db.exists():

            def q(r: StoreReader) -> tuple[CountsView, SyncState | None]:
                return counts_view(r.counts()), r.sync_state()

            try:
                counts, state = await app.read(q)
                sync = sync_view(state)
            except StoreError as exc:
                # Degraded, not failed: the tool meant for diagnosing failures explains this one.
                store_error = str(exc)
            except sqlite3.OperationalError:  # its tables are still being created
                store_error = "The bridge is still creating the store; call again shortly."
        status = Status(
            state="bridge_unavailable",
            advice="The bridge is starting or unavailable; stored messages can still be read.",
            simulate=app.settings.simulate,
            bridge_running=False,
            sync=sync,
            store=counts,
            store_error=store_error,
            data_dir=str(app.paths.root),
            security=app.supervisor.security_note,
            enforced=enforced,
        )
        if bs is None:
            status.advice = f"{status.advice} ({bridge_error})"
        else:
            status.state = bs.state.value
            status.advice = bs.advice
            if bs.state.value == "connected":
                status.advice = connected_advice(counts, sync) or bs.advice
            status.paired = bs.paired
            status.account = bs.account_jid
            status.bridge_running = True
            status.bridge_pid = bs.pid
            status.history_sync = bs.history_sync
        return CallToolResult(
            content=[TextContent(type="text", text=status_text(status))],
            structured_content=status.model_dump(mode="json", exclude_none=True),
        )
