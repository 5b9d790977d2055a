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

ChatArg = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="A chat JID (from list_chats), a phone number, or a chat/contact name.",
    ),
]
MessageId = Annotated[
    str, Field(min_length=1, max_length=200, description="Message id from list_messages.")
]


def register(server: MCPServer, app: App) -> None:
    @server.tool(annotations=REACT)
    async def send_reaction(
        chat: ChatArg,
        message_id: MessageId,
        emoji: Annotated[
            str,
            Field(
                max_length=32,
                description='One emoji, like "👍" or "❤️"; an empty string "" removes the '
                "user's reaction.",
            ),
        ],
    ) -> ReactResponse:
        """React to a message with an emoji, as the user (everyone in the chat sees it), or
        remove the user's reaction with "". Only react when the user asked for it."""
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
            Field(
                max_length=200,
                description="Mark messages read up to and including this one; omit for all.",
            ),
        ] = None,
    ) -> MarkReadResponse:
        """Mark a chat's unread messages as read: sends read receipts (blue ticks) and sets its
        unread count. Reading or searching never does this; call it only when the user wants
        the chat marked read."""
        with tool_errors():
            chat_jid = await app.read(lambda r: r.resolve_chat(chat))
            client = await app.write_bridge()
            return await client.mark_read(
                MarkReadRequest(chat=chat_jid, up_to_message_id=up_to_message_id),
            )
