"""`whatsapp-mcp import` and `whatsapp-mcp export` (the work is in mcp_server.cli_data)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mcp_server import cli_data
from mcp_server.commands.base import Command, settings_for


def _run(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return cli_data.run(name, args, settings_for(args))

    return run


COMMANDS = [
    Command(
        "import",
        "import the phone's Export chat files (.txt/.zip/.jsonl)",
        _run("import"),
        cli_data.add_import_args,
    ),
    Command(
        "export",
        "export messages (json/jsonl/md/csv) or contacts (vcf/csv)",
        _run("export"),
        cli_data.add_export_args,
    ),
]
