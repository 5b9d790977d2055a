"""Auto-reply tools: switch the bridge's Gemini (or fixed-text) auto-reply on and off per chat,
and show the rules with their stats.

Rules change only through the bridge (the store's single writer); the stats are read straight
from the store through a read-only connection.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from typing import Annotated, Literal

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from bridge.control.autoreply import KILL_SWITCH, SetAutoReplyRequest
from mcp_server.app import App
from mcp_server.errors import tool_errors
from mcp_server.tools.read import READ, exact_recipient
from store.autoreply import ALL_CONTACTS, AutoReplyReader, AutoReplyRule, RuleMode
from store.db import open_reader
from store.errors import StoreError
from store.reader import StoreReader

# Switching auto-reply on lets the bridge send messages on its own: a destructive, open-world
# action. Setting the same rule twice leaves the same state, hence idempotent.
SET_RULE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
)


class RuleView(AutoReplyRule):
    chat_name: str | None = Field(default=None, description="The chat's name, if known.")


class AutoReplyOverview(BaseModel):
    rules: list[RuleView] = Field(description="Every rule, on or off, with its stats.")
    enabled_count: int = Field(description="Rules switched on and not expired.")


class _RuleReader:
    """A read-only connection of its own, opened once the store exists."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._reader: AutoReplyReader | None = None

    async def rules(self) -> list[AutoReplyRule]:
        await self.app.reader()  # waits for the bridge to create the store on a fresh data dir
        try:
            return await anyio.to_thread.run_sync(self._rules)
        except StoreError:
            # A store that exists but is not migrated yet: the bridge is still starting.
            await self.app.bridge()
            return await anyio.to_thread.run_sync(self._rules)

    def _rules(self) -> list[AutoReplyRule]:
        with self._lock:
            if self._reader is None:
                self._reader = AutoReplyReader(open_reader(self.app.paths.messages_db))
            try:
                return self._reader.rules()
            except sqlite3.OperationalError as exc:
                raise StoreError(
                    f"The store has no auto-reply tables yet ({exc}): the running bridge is "
                    "older than this server. Run `whatsapp-mcp stop`; the next tool call starts "
                    "the current one."
                ) from exc


async def _with_names(app: App, rules: list[AutoReplyRule]) -> list[RuleView]:
    def names(reader: StoreReader) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for rule in rules:
            if rule.chat != ALL_CONTACTS:
                try:
                    out[rule.chat] = reader.resolve_recipient(rule.chat)[1]
                except StoreError:
                    out[rule.chat] = None
        return out

    known = await app.read(names)
    return [RuleView(**r.model_dump(), chat_name=known.get(r.chat)) for r in rules]


def register(server: MCPServer, app: App) -> None:
    rule_reader = _RuleReader(app)

    @server.tool(annotations=SET_RULE)
    async def set_auto_reply(
        chat: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="JID, phone or exact name; all_contacts = saved contacts' direct "
                "chats; '*' with enabled=false = all off.",
            ),
        ],
        enabled: bool,
        instructions: Annotated[
            str | None,
            Field(
                max_length=4000,
                description="The user's brief (persona, what to say or not); omit to keep it.",
            ),
        ] = None,
        mode: Annotated[
            Literal["gemini", "static"] | None,
            Field(description="gemini: written from recent messages; static: static_text."),
        ] = None,
        static_text: Annotated[
            str | None,
            Field(max_length=4096, description="The reply for mode static."),
        ] = None,
        until: Annotated[
            datetime | None,
            Field(description="ISO time it ends (no offset: local); omit for never."),
        ] = None,
        quiet_hours: Annotated[
            str | None,
            Field(
                max_length=20,
                description="'HH:MM-HH:MM' local, no replies; '' removes.",
            ),
        ] = None,
        mention_only: Annotated[
            bool | None,
            Field(description="Groups: only @-mentions of the user (default true)."),
        ] = None,
    ) -> AutoReplyOverview:
        """Turn auto-replies on or off for a chat, all saved contacts, or all. Only when the
        user asks: while on, the bridge answers that chat as the user by itself, even
        after this conversation (once per message, with delays and hourly caps;
        paused while the user writes). Groups need their own rule. Gemini mode sends
        recent messages to Google."""
        with tool_errors():
            # The bridge first: on a fresh data dir it is what creates (and migrates) the store.
            client = await app.write_bridge()
            # Whether the chat is a saved contact is judged on the whole store, not a partial one.
            target = chat.strip()
            if target in (KILL_SWITCH, ALL_CONTACTS):
                await app.store_ready()
            else:
                target, _ = await exact_recipient(app, "chat", target)
            local_until = until.astimezone() if until is not None else None
            request = SetAutoReplyRequest(
                chat=target,
                enabled=enabled,
                instructions=instructions,
                mode=RuleMode(mode) if mode else None,
                static_text=static_text,
                until=local_until,
                quiet_hours=quiet_hours,
                mention_only=mention_only,
            )
            state = await client.set_autoreply(request)
            return await _overview(app, state.rules)

    @server.tool(annotations=READ)
    async def get_auto_reply() -> AutoReplyOverview:
        """Auto-reply rules, on and off, with stats: replies, last reply, Gemini tokens, errors
        and messages skipped by a safety rule (caps, the user writing, quiet hours,
        bot loops)."""
        with tool_errors():
            return await _overview(app, await rule_reader.rules())


async def _overview(app: App, rules: list[AutoReplyRule]) -> AutoReplyOverview:
    now = datetime.now().astimezone()
    views = await _with_names(app, rules)
    live = sum(1 for r in rules if r.enabled and (r.until is None or r.until > now))
    return AutoReplyOverview(rules=views, enabled_count=live)
