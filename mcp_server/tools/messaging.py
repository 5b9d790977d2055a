"""Reactions and read receipts: small writes that WhatsApp shows to the other side, so they go
through the bridge's send gate like any message."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from bridge.control.models import MarkReadRequest, MarkReadResponse, ReactRequest, ReactResponse
from mcp_server.app import App
from mcp_server.errors import tool_errors

# Visible to other people, but undoable (react again / with "") and not destructive.
REACT = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
# Read receipts cannot be taken back, but they destroy nothing either.
MARK_READ = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)

ChatArg = Annotated[str, Field(min_length=1, max_length=200, description="Chat id, phone or name.")]
MessageId = Annotated[str, Field(min_length=1, max_length=200)]


def register(server: MCPServer, app: App) -> None:
    @server.tool(annotations=REACT)
    async def send_reaction(
        chat: ChatArg,
        message_id: MessageId,
        emoji: Annotated[
            str,
            Field(max_length=32, description='One emoji, or "" to remove the reaction.'),
        ],
    ) -> ReactResponse:
        """React to a message as the user (everyone in the chat sees it). Only when the user
        asked."""
        with tool_errors():
            chat_jid = await app.read(lambda r: r.resolve_chat(chat))
            client = await app.write_bridge()
            return await client.react(
                ReactRequest(chat=chat_jid, message_id=message_id, emoji=emoji),
            )

    @server.tool(annotations=MARK_READ)
    async def mark_read(
        chat: ChatArg,
        up_to_message_id: Annotated[
            str | None,
            Field(max_length=200, description="Last message to mark; omit for all."),
        ] = None,
    ) -> MarkReadResponse:
        """Mark a chat read: sends read receipts (blue ticks), clears its unread count.
        Nothing else marks read; call it only when the user asks."""
        with tool_errors():
            chat_jid = await app.read(lambda r: r.resolve_chat(chat))
            client = await app.write_bridge()
            return await client.mark_read(
                MarkReadRequest(chat=chat_jid, up_to_message_id=up_to_message_id),
            )
