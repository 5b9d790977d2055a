"""`whatsapp-mcp`: the console entry point.

whatsapp-mcp [serve]   stdio MCP server (what an MCP host starts)
whatsapp-mcp bridge    the bridge in the foreground (service mode; never idles out)
whatsapp-mcp status    human-readable status
whatsapp-mcp stop      stop the bridge
whatsapp-mcp demo      a guided tour on a simulated WhatsApp
whatsapp-mcp schedule  add / list / cancel scheduled messages (mcp_server/schedule_cli.py)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time

from bridge.control.client import BridgeError, ControlClient
from bridge.control.models import BridgeStatus, StopResponse
from bridge.lock import holder_pid
from bridge.paths import DataPaths
from bridge.settings import Settings, SettingsError, load_settings, settings_env


def _out(text: str) -> None:
    # CLI subcommands other than `serve` own their stdout; `serve` never calls this.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=None, help="data directory (WHATSAPP_MCP_DATA_DIR)")
    p.add_argument(
        "--simulate",
        action="store_true",
        default=None,
        help="use the simulated WhatsApp (WHATSAPP_MCP_SIMULATE=1)",
    )
    p.add_argument(
        "--simulate-history",
        type=int,
        default=None,
        metavar="N",
        help="add N synthetic history messages in simulate mode",
    )


def _settings(args: argparse.Namespace) -> Settings:
    s = load_settings(
        data_dir=args.data_dir, simulate=args.simulate, simulate_history=args.simulate_history
    )
    # Children (the bridge) read the same values from the environment.
    os.environ.update(settings_env(s))
    return s


def cmd_serve(settings: Settings) -> int:
    from mcp_server.server import build_server

    logging.basicConfig(level=settings.log_level, stream=sys.stderr)
    build_server(settings).run()
    return 0


def cmd_bridge(settings: Settings) -> int:
    from bridge.main import main as bridge_main

    argv = ["--data-dir", str(settings.data_dir)]
    if settings.simulate:
        argv.append("--simulate")
    return bridge_main(argv)


def _client(settings: Settings) -> ControlClient:
    return ControlClient(DataPaths(settings.data_dir), tcp=settings.control_transport == "tcp")


def cmd_status(settings: Settings) -> int:
    paths = DataPaths(settings.data_dir)
    _out(f"data dir:  {paths.root}")
    try:
        st = asyncio.run(_client(settings).call("GET", "/api/status", BridgeStatus, timeout=5))
    except BridgeError as exc:
        _out(f"bridge:    not running ({exc.message})")
        _out(f"store:     {'present' if paths.messages_db.exists() else 'not created yet'}")
        return 1
    _out(f"bridge:    running (pid {st.pid}, {st.transport}, {st.attached_clients} attached)")
    _out(f"state:     {st.state.value}{' - ' + st.detail if st.detail else ''}")
    _out(
        f"paired:    {'yes' if st.paired else 'no'}"
        + (f" as {st.account_jid}" if st.account_jid else "")
    )
    if st.history_sync_progress is not None:
        _out(f"history:   {st.history_sync_progress}% synced")
    _out(f"advice:    {st.advice}")
    return 0


def cmd_stop(settings: Settings) -> int:
    paths = DataPaths(settings.data_dir)
    try:
        asyncio.run(_client(settings).call("POST", "/api/stop", StopResponse, timeout=5))
    except BridgeError as exc:
        _out(f"no bridge running ({exc.message})")
        return 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and paths.token.exists():
        time.sleep(0.05)
    _out(f"bridge stopped (was pid {holder_pid(paths.lock)})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="whatsapp-mcp", description="WhatsApp MCP server")
    sub = parser.add_subparsers(dest="command")
    for name, help_text in [
        ("serve", "run the stdio MCP server (default)"),
        ("bridge", "run the bridge in the foreground (service mode)"),
        ("status", "show the bridge and connection status"),
        ("stop", "stop the bridge"),
        ("login", "link your phone: QR code in the terminal, or --phone for a pairing code"),
        ("logout", "unlink this device from WhatsApp"),
        ("demo", "guided tour on a simulated WhatsApp"),
    ]:
        sp = sub.add_parser(name, help=help_text)
        _common(sp)
        if name == "login":
            sp.add_argument("--phone", help="your number with country code, for a pairing code")
    from mcp_server import schedule_cli  # issue 18

    schedule_cli.add_parser(sub, _common)
    _common(parser)
    args = parser.parse_args(argv)
    command = args.command or "serve"
    try:
        if command == "demo":
            from mcp_server.demo import run_demo

            return run_demo(data_dir=args.data_dir)
        settings = _settings(args)
    except SettingsError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if command in ("login", "logout"):
        from mcp_server import login

        try:
            if command == "login":
                return asyncio.run(login.login(settings, args.phone, _out))
            return asyncio.run(login.logout(settings, _out))
        except BridgeError as exc:
            sys.stderr.write(f"{exc.code}: {exc.message}\n")
            return 1
    if command == "schedule":
        return schedule_cli.run(settings, args, _out)
    handlers = {"serve": cmd_serve, "bridge": cmd_bridge, "status": cmd_status, "stop": cmd_stop}
    return handlers[command](settings)
