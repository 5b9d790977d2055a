"""Scheduling tools: send a message later, list what is scheduled, cancel.

The bridge stores and fires schedules (it is the store's only writer); every fire goes through
its send gate with origin `scheduled`, judged by the policy and limits of that moment. Listing
reads the store directly, so it works while the bridge or WhatsApp is down.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Annotated

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from bridge.control import schedule as control
from bridge.settings import Settings
from mcp_server.app import App
from mcp_server.confirm import GO_AHEAD, Confirm, app_of, confirm_or_ask, require_approval
from mcp_server.errors import tool_errors
from mcp_server.tools.read import READ, exact_recipient
from mcp_server.tools.side_conn import SideConnection
from store import scheduled as schedules
from store.errors import StoreError
from store.reader import StoreReader
from store.scheduled import ScheduledMessage, ScheduleState

SCHEDULE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)
CANCEL = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


class ScheduledView(BaseModel):
    id: int = Field(description="Pass to cancel_scheduled.")
    to: str = Field(description="The chat JID it goes (or went) to.")
    chat_name: str | None = None
    text: str = Field(description="The text as the user asked it to be sent.")
    state: ScheduleState = Field(
        description="pending, sending, sent, refused (by the send gate at fire time), failed, "
        "missed (the bridge was down past the grace period; not sent) or cancelled."
    )
    when: str = Field(description="Due time in the user's zone.")
    when_utc: str = Field(description="Due time in UTC.")
    detail: str | None = Field(default=None, description="Why it was refused, failed or missed.")
    message_id: str | None = Field(default=None, description="The sent message's id.")


class ScheduledList(BaseModel):
    items: list[ScheduledView] = Field(description="Pending first (soonest first), then others.")
    pending: int


def view(item: ScheduledMessage, settings: Settings, name: str | None = None) -> ScheduledView:
    local, utc = control.describe(item.at, settings.timezone)
    return ScheduledView(
        id=item.id,
        to=item.chat_jid,
        chat_name=name,
        text=item.text,
        state=item.state,
        when=local,
        when_utc=utc,
        detail=item.detail,
        message_id=item.message_id,
    )


async def confirm_scheduled(to: str, text: str, at: str, ctx: Context) -> Confirm | Elicit[Confirm]:
    """Resolver for schedule_message's confirmation: a risky send is asked about when it is
    scheduled, as send_message asks when it sends (mcp_server/confirm.py)."""
    return await confirm_or_ask(app_of(ctx), ctx, to, text, when=at)


def register(server: MCPServer, app: App) -> None:
    side = SideConnection(app)

    async def names(jids: list[str]) -> dict[str, str | None]:
        def lookup(r: StoreReader) -> dict[str, str | None]:
            out: dict[str, str | None] = {}
            for jid in set(jids):
                try:
                    out[jid] = r.resolve_recipient(jid)[1]
                except StoreError:  # a name is a nicety; the JID is still shown
                    out[jid] = None
            return out

        return await app.read(lookup)

    @server.tool(annotations=SCHEDULE)
    async def schedule_message(
        to: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="JID, phone or a contact/group/chat's whole name (part of a name is "
                "refused).",
            ),
        ],
        text: Annotated[str, Field(min_length=1, max_length=65536)],
        at: Annotated[
            str,
            Field(
                min_length=1,
                max_length=80,
                description="ISO time with offset (2026-12-24T08:00+01:00, …Z) or local time "
                "and zone (2026-12-24 08:00 Europe/Berlin).",
            ),
        ],
        reply_to: Annotated[
            str | None,
            Field(max_length=200, description="Id of a message in this chat to quote."),
        ] = None,
        # Filled by the SDK, not by the model: the person's answer when the host can ask them.
        confirmation: Annotated[ElicitationResult[Confirm], Resolve(confirm_scheduled)] = GO_AHEAD,
    ) -> ScheduledView:
        """Send a text from the user's account later, only if the user asked. At that time it
        goes through the send policy as it is then (a refusal shows in list_scheduled); if the
        bridge is down past the grace period it is missed, never sent late. Confirm the
        returned time with the user."""
        require_approval(confirmation, nothing_was="scheduled")
        with tool_errors():
            when, zone = control.parse_when(
                at, example_zone=app.settings.timezone or "Europe/Berlin"
            )
            control.check_future(when, datetime.now(UTC), at)
            chat_jid, chat_name = await exact_recipient(app, "to", to)
            # A write like send_message: refused while the bridge runs other security settings.
            client = await app.write_bridge()
            item = await control.schedule(
                client,
                control.ScheduleRequest(
                    to=chat_jid, text=text, at=when, zone=zone, reply_to=reply_to
                ),
            )
        return view(item, app.settings, chat_name)

    @server.tool(annotations=READ)
    async def list_scheduled(
        include_done: Annotated[bool, Field(description="Also the ones no longer pending.")] = True,
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
    ) -> ScheduledList:
        """Scheduled messages, pending first (soonest first), then sent, refused (with the
        reason), failed, missed or cancelled ones; times in the user's zone and UTC."""

        def read(conn: sqlite3.Connection) -> tuple[list[ScheduledMessage], int]:
            states = None if include_done else frozenset({"pending", "sending"})
            items = schedules.list_scheduled(conn, states=states, limit=limit)
            row = conn.execute("SELECT count(*) FROM scheduled_messages WHERE state = 'pending'")
            return items, int(row.fetchone()[0])

        with tool_errors():
            items, pending = await side.run(read)
            known = await names([i.chat_jid for i in items])
        return ScheduledList(
            items=[view(i, app.settings, known.get(i.chat_jid)) for i in items], pending=pending
        )

    @server.tool(annotations=CANCEL)
    async def cancel_scheduled(
        id: Annotated[int, Field(ge=1, description="From schedule_message or list_scheduled.")],
    ) -> ScheduledView:
        """Cancel a pending scheduled message so it is never sent (only pending ones can be
        cancelled)."""
        with tool_errors():
            client = await app.bridge()
            item = await control.cancel(client, id)
            known = await names([item.chat_jid])
        return view(item, app.settings, known.get(item.chat_jid))
