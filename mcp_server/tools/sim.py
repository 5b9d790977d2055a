"""Tools that exist only in simulate mode (the demo and tests)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from bridge.control.models import InboundRequest
from mcp_server.app import App
from mcp_server.errors import tool_errors
from mcp_server.presentation import render
from mcp_server.presentation.views import MessageView, message_view


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
                description="Phone or JID; a new number is an unsaved contact.",
            ),
        ],
        text: Annotated[str, Field(min_length=1, max_length=65536)],
        chat: Annotated[
            str | None,
            # The bridge's InboundRequest allows 200 characters: say so in the schema, so a
            # longer value is an argument error, not a crash inside the tool.
            Field(
                max_length=200,
                description="Group JID (omit: direct); an unknown one is a new group of sender's.",
            ),
        ] = None,
        push_name: Annotated[
            str | None,
            Field(
                max_length=100,
                description="The sender's own chosen name (any text).",
            ),
        ] = None,
        from_me: Annotated[
            bool,
            Field(description="Typed by the user on their phone (in chat or sender's)."),
        ] = False,
    ) -> Annotated[CallToolResult, MessageView]:
        """SIMULATION ONLY: a simulated person messages the user, or (from_me) the user types
        on their phone; to try the tools and safety rules without a phone."""
        with tool_errors():
            client = await app.bridge()
            got = await client.simulate_inbound(
                InboundRequest(
                    sender=sender, text=text, chat=chat, push_name=push_name, from_me=from_me
                ),
            )
            m = await app.read(lambda r: r.get_message(got.chat_jid, got.id))
        view = message_view(m, cap=None)
        return CallToolResult(
            content=[TextContent(type="text", text=render.message_line(view, with_chat=True))],
            structured_content=view.compact(),
        )
