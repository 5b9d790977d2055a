"""`whatsapp-mcp [serve]`: the stdio MCP server, what an MCP host starts on every launch.

Its own module, importing nothing but the settings: the CLI imports only this one for `serve`
(mcp_server/cli.py), so the host's `initialize` is not kept waiting on the other subcommands'
imports (the bridge's wire models, the store, the chat-export importer).
"""

from __future__ import annotations

import argparse
import logging
import sys

from mcp_server.commands.base import Command, settings_for


def _serve(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    from mcp_server.server import build_server

    logging.basicConfig(level=settings.log_level, stream=sys.stderr)
    build_server(settings).run()
    return 0


COMMAND = Command("serve", "run the stdio MCP server (default)", _serve)
