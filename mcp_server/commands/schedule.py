"""`whatsapp-mcp schedule …`: scheduled sends from the terminal.

    whatsapp-mcp schedule add TO AT TEXT [--reply-to ID]
    whatsapp-mcp schedule list [--all]
    whatsapp-mcp schedule cancel ID

`add` and `cancel` go to the running bridge (the store's only writer; `whatsapp-mcp bridge` or
an MCP host starts it); `list` reads the store, so it works with the bridge stopped. Sends go
through the bridge's gate like any other (origin `scheduled` when they fire).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from bridge.control import schedule as control
from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError
from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.commands.base import Command, global_options, out, settings_for
from store.db import open_reader
from store.errors import StoreError
from store.reader import StoreReader
from store.scheduled import ScheduledMessage, list_scheduled


def add_args(p: argparse.ArgumentParser) -> None:
    """The `schedule` actions; each also takes the global options (--data-dir and friends)."""
    actions = p.add_subparsers(dest="schedule_action", required=True)
    add = actions.add_parser("add", help="send TEXT to TO at AT")
    add.add_argument("to", help="JID, phone number with country code, or exact contact name")
    add.add_argument("at", help="ISO time with offset, or 'YYYY-MM-DD HH:MM Zone/Name'")
    add.add_argument("text", help="the message")
    add.add_argument("--reply-to", default=None, help="id of a message in that chat to quote")
    lst = actions.add_parser("list", help="show scheduled messages")
    lst.add_argument("--all", action="store_true", help="include sent, refused, missed, …")
    cancel = actions.add_parser("cancel", help="cancel a pending scheduled message")
    cancel.add_argument("id", type=int)
    for action in (add, lst, cancel):
        global_options(action, top=False)


def _line(item: ScheduledMessage, settings: Settings) -> str:
    local, utc = control.describe(item.at, settings.timezone)
    text = item.text if len(item.text) <= 50 else item.text[:49] + "…"
    line = f"#{item.id:<4} {item.state:<9} {local} = {utc}  to {item.chat_jid}: {text}"
    return line + (f"\n       {item.detail}" if item.detail else "")


def run(settings: Settings, args: argparse.Namespace) -> int:
    paths = DataPaths(settings.data_dir)
    client = ControlClient(paths, tcp=settings.control_transport == "tcp")
    try:
        if args.schedule_action == "list":
            conn = open_reader(paths.messages_db)
            try:
                states = None if args.all else frozenset({"pending", "sending"})
                items = list_scheduled(conn, states=states)
            finally:
                conn.close()
            for item in items:
                out(_line(item, settings))
            if not items:
                out("nothing scheduled" + ("" if args.all else " (--all shows past ones)"))
            return 0
        if args.schedule_action == "cancel":
            out(_line(asyncio.run(control.cancel(client, args.id)), settings))
            return 0
        when, zone = control.parse_when(args.at, example_zone=settings.timezone or "Europe/Berlin")
        control.check_future(when, datetime.now(UTC), args.at)
        conn = open_reader(paths.messages_db)
        try:
            chat_jid, _ = StoreReader(conn).resolve_recipient(args.to)
        finally:
            conn.close()
        req = control.ScheduleRequest(
            to=chat_jid, text=args.text, at=when, zone=zone, reply_to=args.reply_to
        )
        out(_line(asyncio.run(control.schedule(client, req)), settings))
        return 0
    except StoreError as exc:
        out(f"error: {exc}")
        return 2
    except BridgeError as exc:
        out(f"error: {exc.code}: {exc.message}")
        return 1


def _run(args: argparse.Namespace) -> int:
    return run(settings_for(args), args)


COMMAND = Command("schedule", "schedule messages: add, list, cancel", _run, add_args)
