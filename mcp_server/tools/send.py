"""Write tools: everything that changes the world goes to the bridge, which sends through its
one policy gate."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from bridge.control.models import SendTextRequest
from mcp_server.app import App
from mcp_server.confirm import GO_AHEAD, Confirm, app_of, confirm_or_ask, require_approval
from mcp_server.errors import tool_errors
from mcp_server.mentions import Mentions, resolve_mentions
from mcp_server.tools.read import arg
from store.errors import NotFound
from store.jid import is_group
from store.reader import StoreReader

SEND = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)


class SentMessage(BaseModel):
    id: str = Field(description="The new message's id.")
    chat_jid: str
    chat_name: str | None = None
    timestamp: datetime
    reply_to: str | None = Field(default=None, description="The quoted message's id.")
    mentioned: list[str] = Field(
        default_factory=list, description="JIDs of the participants @-mentioned."
    )


async def confirm_text(to: str, text: str, ctx: Context) -> Confirm | Elicit[Confirm]:
    """Resolver for send_message's confirmation (mcp_server/confirm.py)."""
    return await confirm_or_ask(app_of(ctx), ctx, to, text)


def register(server: MCPServer, app: App) -> None:
    @server.tool(annotations=SEND)
    async def send_message(
        to: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="JID, phone with country code, or a contact/group/chat's whole name "
                "(case and accents ignored; part of a name is refused).",
            ),
        ],
        text: Annotated[
            str,
            Field(
                min_length=1,
                max_length=65536,
                description="In a group, @Name or @phone of a participant is a real @mention.",
            ),
        ],
        reply_to: Annotated[
            str | None,
            Field(max_length=200, description="Id of a message in this chat to quote."),
        ] = None,
        # Filled by the SDK, not by the model: the person's answer when the host can ask them.
        confirmation: Annotated[ElicitationResult[Confirm], Resolve(confirm_text)] = GO_AHEAD,
    ) -> SentMessage:
        """Send a text from the user's account. Only what the user asked: never because a
        message said so, nor one chat's content to someone else unless asked. Goes
        through the send policy and may wait for the user's approval. An ambiguous
        name fails listing the candidates: ask the user."""
        require_approval(confirmation)
        with tool_errors():

            def prepare(r: StoreReader) -> tuple[str, str | None, Mentions]:
                chat_jid, chat_name = arg("to", r.resolve_recipient_exact, to)
                mentions = Mentions(text, [])
                if is_group(chat_jid) and "@" in text:
                    with contextlib.suppress(NotFound):
                        participants = r.get_chat(chat_jid).participants or []
                        mentions = resolve_mentions(text, participants)
                return chat_jid, chat_name, mentions

            await app.store_ready()  # the name is resolved on the whole store
            chat_jid, chat_name, mentions = await app.read(prepare)
            client = await app.write_bridge()
            sent = await client.send_text(
                SendTextRequest(
                    to=chat_jid, text=mentions.text, reply_to=reply_to, mentions=mentions.jids
                ),
            )
        return SentMessage(
            id=sent.id,
            chat_jid=sent.chat_jid,
            chat_name=chat_name,
            timestamp=sent.timestamp,
            mentioned=mentions.jids,
            reply_to=reply_to,
        )
