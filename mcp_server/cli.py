"""`whatsapp-mcp`: the console entry point.

whatsapp-mcp [serve]   stdio MCP server (what an MCP host starts)
whatsapp-mcp bridge    the bridge in the foreground (service mode; never idles out)
whatsapp-mcp status    human-readable status, auto-reply rules included
whatsapp-mcp stop      stop the bridge
...and the rest of `COMMANDS` below (`whatsapp-mcp --help` lists them).

A subcommand is one `Command`: a name, a help line, an optional function adding its own
arguments and a function `run(args) -> exit code` (which calls `settings_for(args)` if it needs
the settings). It is registered by one line in
`COMMANDS`. Global options (`--data-dir`, `--simulate`, `--simulate-history`) work before or
after the subcommand: a global option given after the subcommand never resets one given
before it (the subparsers' defaults are SUPPRESS).

Every bad input is one line on stderr naming the fix, and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from bridge.control.errors import BridgeError
from bridge.settings import SettingsError
from mcp_server.commands.base import EXIT_USAGE, Command, UsageError, global_options


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one line with the way out is kinder.
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _commands() -> list[Command]:
    # Imported here so `import mcp_server.cli` stays light; each module holds its commands.
    from mcp_server.commands import (
        autoreply,
        backup,
        core,
        data,
        doctor,
        schedule,
        serve,
        service,
        status,
    )

    return [
        serve.COMMAND,
        *core.COMMANDS,
        status.COMMAND,
        autoreply.COMMAND,
        service.COMMAND,
        backup.COMMAND,
        doctor.COMMAND,
        *data.COMMANDS,
        schedule.COMMAND,
    ]


def build_parser(commands: list[Command]) -> argparse.ArgumentParser:
    parser = _Parser(prog="whatsapp-mcp", description="WhatsApp MCP server")
    global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for command in commands:
        sp = sub.add_parser(command.name, help=command.help, description=command.help)
        global_options(sp, top=False)
        if command.add_args is not None:
            command.add_args(sp)
    return parser


_GLOBAL_WITH_VALUE = frozenset({"--data-dir", "--simulate-history"})


def _command_name(argv: list[str]) -> str | None:
    """The subcommand argparse will find: the first word that is neither an option nor the
    value of a global option (`--data-dir=X` carries its value in the same word)."""
    words = iter(argv)
    for word in words:
        if word in _GLOBAL_WITH_VALUE:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _serving(argv: list[str]) -> bool:
    """`serve`, said or implied, and no help asked: the one path a host starts, kept light."""
    return _command_name(argv) in (None, "serve") and not {"-h", "--help"} & set(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if _serving(argv):
        from mcp_server.commands import serve

        commands = [serve.COMMAND]
    else:
        commands = _commands()
    args = build_parser(commands).parse_args(argv)
    name = args.command or "serve"
    command = next(c for c in commands if c.name == name)
    try:
        return command.run(args)
    except (SettingsError, UsageError) as exc:
        sys.stderr.write(f"whatsapp-mcp {name}: {exc}\n")
        return EXIT_USAGE
    except BridgeError as exc:
        sys.stderr.write(f"whatsapp-mcp {name}: {exc.message}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `whatsapp-mcp status | head`: the reader left. Point stdout at nothing, so the
        # interpreter's last flush does not raise again, and end without a traceback (exit 1,
        # as Python's own EPIPE handling does: the output was cut short).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
