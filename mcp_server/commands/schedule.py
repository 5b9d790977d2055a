"""`whatsapp-mcp schedule add|list|cancel` (the work is in mcp_server.schedule_cli)."""

from __future__ import annotations

import argparse

from mcp_server import schedule_cli
from mcp_server.commands.base import Command, out, settings_for


def _run(args: argparse.Namespace) -> int:
    return schedule_cli.run(settings_for(args), args, out)


COMMAND = Command("schedule", "schedule messages: add, list, cancel", _run, schedule_cli.add_args)
