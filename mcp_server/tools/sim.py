"""Tools that exist only in simulate mode (the demo and tests)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from bridge.control.models import InboundRequest
from mcp_server.app import App
from mcp_server.errors import tool_errors
from store.models import Message


def register(server: MCPServer, app: App) -> None:
    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=False,
        )
    )
    async def simulate_incoming_message(
        sender: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="Who writes: a phone number or JID, known or new. A new number "
                "becomes a new, unsaved contact.",
            ),
        ],
        text: Annotated[str, Field(min_length=1, max_length=65536)],
        chat: Annotated[
            str | None,
            # The bridge's InboundRequest allows 200 characters: say so in the schema, so a
            # longer value is an argument error, not a crash inside the tool.
            Field(max_length=200, description="Group JID to post in; omit for a direct message."),
        ] = None,
    ) -> Message:
        """SIMULATION ONLY: make a simulated person send the user a message, as if it arrived
        from WhatsApp. Use it to try the tools without a phone."""
        with tool_errors():
            client = await app.bridge()
            got = await client.simulate_inbound(
                InboundRequest(sender=sender, text=text, chat=chat),
            )
            return await app.read(lambda r: r.get_message(got.chat_jid, got.id))
