"""The basic subcommands: bridge, stop, login, logout, demo (serve is in serve.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError
from bridge.control.lifecycle import clear_user_stopped, mark_user_stopped, service_record
from bridge.control.lockfile import holder_pid, lock_is_held
from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.commands.base import Command, out, settings_for

# E.164: a country code and the subscriber number, 7 to 15 digits in all.
_PHONE = re.compile(r"\d{7,15}")


def client_for(settings: Settings) -> ControlClient:
    return ControlClient(DataPaths(settings.data_dir), tcp=settings.control_transport == "tcp")


def _bridge(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    paths = DataPaths(settings.data_dir)
    argv = ["--data-dir", str(settings.data_dir)]
    if not sys.stderr.isatty():
        # Under a service manager: the rotating bridge.log. In a terminal: the terminal.
        argv += ["--log-file", str(paths.log)]
    if settings.simulate:
        argv.append("--simulate")
    # `python -m bridge` in this process's place: the MCP server's side may import only the
    # contract (bridge.control), not the daemon.
    argv = [sys.executable, "-m", "bridge", *argv]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "nt":  # pragma: no cover - no exec on Windows: wait for the child instead
        import subprocess

        return subprocess.call(argv)
    os.execv(sys.executable, argv)


def _stop(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    paths = DataPaths(settings.data_dir)
    record = service_record(paths)
    if record is not None:
        out(
            f"The bridge for {paths.root} runs as a {record.manager} service; stop it with "
            f"`{record.stop_command}` (or `whatsapp-mcp service uninstall`)."
        )
        return 1
    # Written before the bridge goes, so attached servers see it when their stream drops and
    # wait for a tool to ask instead of restarting the bridge at once.
    mark_user_stopped(paths)
    try:
        asyncio.run(client_for(settings).stop(timeout=5))
    except BridgeError as exc:
        clear_user_stopped(paths)  # nothing was stopped: servers may start it as usual
        out(f"no bridge running for {paths.root} ({exc.message})")
        return 0
    pid = holder_pid(paths.lock)
    deadline = time.monotonic() + 10
    # The bridge holds its lock until the process is gone: wait for that, not just the token.
    while time.monotonic() < deadline and (
        paths.token.exists() or (os.name != "nt" and lock_is_held(paths.lock))
    ):
        time.sleep(0.05)
    out(
        f"bridge stopped (was pid {pid}). Attached MCP servers start it again only when a tool "
        "needs it."
    )
    return 0


def phone_number(value: str) -> str:
    """argparse type for --phone: digits with the country code, no leading 0 or +."""
    digits = re.sub(r"[\s().+-]", "", value)
    if not _PHONE.fullmatch(digits) or digits.startswith("0"):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a phone number: give it with the country code, digits only, "
            "e.g. --phone 4915123456789"
        )
    return digits


def _login_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--phone",
        type=phone_number,
        help="your number with country code (e.g. 4915123456789), for an 8-character code",
    )


def _login(args: argparse.Namespace) -> int:
    from mcp_server.commands import login

    return asyncio.run(login.login(settings_for(args), args.phone, out))


def _logout(args: argparse.Namespace) -> int:
    from mcp_server.commands import login

    return asyncio.run(login.logout(settings_for(args), out))


def _demo(args: argparse.Namespace) -> int:
    from mcp_server.commands.demo import run_demo

    return run_demo(data_dir=args.data_dir)


COMMANDS = [
    Command("bridge", "run the bridge in the foreground (service mode)", _bridge),
    Command("stop", "stop the bridge (servers restart it only when a tool needs it)", _stop),
    Command(
        "login",
        "link your phone: QR code in the terminal, or --phone for a pairing code",
        _login,
        _login_args,
    ),
    Command("logout", "unlink this device from WhatsApp", _logout),
    Command("demo", "guided tour on a simulated WhatsApp", _demo),
]
