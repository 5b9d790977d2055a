"""What every CLI subcommand shares: the `Command` record, the usage error, stdout, settings.

Its own module (not `mcp_server.cli`) so the subcommand modules and the CLI that registers them
do not import each other.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from bridge.settings import Settings, load_settings, settings_env

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad argument: one line telling the user how to fix it (exit 2)."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    add_args: Callable[[argparse.ArgumentParser], None] | None = None


def out(text: str) -> None:
    """CLI subcommands other than `serve` own their stdout; `serve` never calls this."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def settings_for(args: argparse.Namespace) -> Settings:
    s = load_settings(
        data_dir=args.data_dir, simulate=args.simulate, simulate_history=args.simulate_history
    )
    # Children (the bridge) read the same values from the environment.
    os.environ.update(settings_env(s))
    return s


def global_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    """--data-dir, --simulate, --simulate-history on the top parser and on every subcommand."""
    # Sub-level copies default to SUPPRESS so they only set what the user typed there.
    default: object = None if top else argparse.SUPPRESS
    p.add_argument("--data-dir", default=default, help="data directory (WHATSAPP_MCP_DATA_DIR)")
    p.add_argument(
        "--simulate",
        action="store_true",
        default=default,
        help="use the simulated WhatsApp and its own data dir (WHATSAPP_MCP_SIMULATE=1)",
    )
    p.add_argument(
        "--simulate-history",
        type=int,
        default=default,
        metavar="N",
        help="add N synthetic history messages in simulate mode",
    )
