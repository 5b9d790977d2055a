"""`whatsapp-mcp autoreply off [CHAT|--all]`: switch auto-reply off without the assistant."""

from __future__ import annotations

import argparse
import asyncio

from bridge.control.autoreply import KILL_SWITCH, AutoReplyState, SetAutoReplyRequest
from bridge.control.client import ControlClient
from mcp_server.commands.base import Command, UsageError, out, settings_for
from mcp_server.supervision.supervisor import BridgeSupervisor


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["off"], help="off: switch a rule (or every rule) off")
    p.add_argument("chat", nargs="?", help="chat JID or phone number, or all_contacts")
    p.add_argument("--all", action="store_true", help="every rule (the kill switch)")


async def set_rule_off(client: ControlClient, chat: str) -> AutoReplyState:
    return await client.set_autoreply(SetAutoReplyRequest(chat=chat, enabled=False), timeout=15)


def _run(args: argparse.Namespace) -> int:
    if args.all == bool(args.chat):
        raise UsageError(
            "name one chat or use --all: `whatsapp-mcp autoreply off 4915123456789` or "
            "`whatsapp-mcp autoreply off --all`"
        )
    settings = settings_for(args)

    async def go() -> AutoReplyState:
        # The rules live in the bridge: it is started if needed (it idles out afterwards).
        client = await BridgeSupervisor(settings).start_bridge()
        return await set_rule_off(client, KILL_SWITCH if args.all else args.chat)

    state = asyncio.run(go())
    on = [r.chat for r in state.rules if r.enabled]
    out(
        ("every auto-reply rule is off" if args.all else f"auto-reply is off for {args.chat}")
        + (f"; still on: {', '.join(on)}" if on else "; no rule is on")
    )
    return 0


COMMAND = Command(
    "autoreply", "switch auto-reply off: `autoreply off CHAT` or `--all`", _run, _args
)
