"""`whatsapp-mcp doctor`: what is installed and what is wrong, one line each, with the fix."""

from __future__ import annotations

import argparse
import asyncio
import ctypes.util
import sqlite3
import sys

from bridge.control.errors import BridgeError
from bridge.control.lifecycle import service_record, user_stopped
from bridge.control.states import ConnectionState
from bridge.control.versions import (
    DISTRIBUTION,
    OUTDATED_KV,
    UPGRADE_COMMAND,
    installed_version,
    neonize_pin,
)
from bridge.paths import DataPaths
from mcp_server.commands.base import Command, out, settings_for
from mcp_server.commands.core import client_for
from store.db import open_reader
from store.errors import StoreError


def libmagic_line() -> str:
    if ctypes.util.find_library("magic") or _magic_importable():
        return "libmagic:  found"
    if sys.platform == "darwin":
        fix = "brew install libmagic"
    elif sys.platform == "win32":
        fix = "pip install python-magic-bin (in this environment)"
    else:
        fix = "sudo apt-get install libmagic1 (Fedora: sudo dnf install file-libs)"
    return f"libmagic:  MISSING: the bridge cannot load neonize without it; fix: {fix}"


def _magic_importable() -> bool:
    try:
        import magic  # noqa: F401  (python-magic; finds libmagic its own way, e.g. Homebrew)
    except ImportError:
        return False
    return True


def _outdated_at(paths: DataPaths) -> str | None:
    if not paths.messages_db.exists():
        return None
    try:
        conn = open_reader(paths.messages_db)
    except (StoreError, sqlite3.Error):
        return None
    try:
        row = conn.execute("SELECT value FROM kv WHERE key = ?", (OUTDATED_KV,)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return str(row[0]) if row is not None and row[0] else None


def _neonize_installed() -> str:
    from importlib import metadata

    try:
        return metadata.version("neonize")
    except metadata.PackageNotFoundError:
        return "not installed"


def _doctor(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    paths = DataPaths(settings.data_dir)
    problems = 0
    version = installed_version()
    out(f"version:   {DISTRIBUTION} {version or '(running from a source tree, not installed)'}")
    out(f"python:    {sys.version.split()[0]} ({sys.executable})")
    out(f"neonize:   {_neonize_installed()} (pin: {neonize_pin() or 'see pyproject.toml'})")
    magic = libmagic_line()
    problems += "MISSING" in magic
    out(magic)
    out(f"data dir:  {paths.root}{'' if paths.root.exists() else ' (not created yet)'}")
    record = service_record(paths)
    out(f"service:   {f'{record.manager} ({record.unit_path})' if record else 'none'}")
    outdated = _outdated_at(paths)
    try:
        st = asyncio.run(client_for(settings).status(timeout=5))
    except BridgeError as exc:
        stopped = " after `whatsapp-mcp stop`" if user_stopped(paths) else ""
        out(f"bridge:    not running{stopped}: {exc.message}")
    else:
        out(f"bridge:    running, pid {st.pid}, {st.state.value}, paired: {st.paired}")
        if st.state == ConnectionState.outdated:
            outdated = outdated or "now"
    if outdated:
        problems += 1
        out(
            f"outdated:  WhatsApp called this client outdated ({outdated}); upgrade with "
            f"`{UPGRADE_COMMAND}` (or the newest bundle), then `whatsapp-mcp stop`"
        )
    else:
        out("outdated:  no (WhatsApp has not refused this version)")
    return 1 if problems else 0


COMMAND = Command("doctor", "check the installation: version, neonize, libmagic, bridge", _doctor)
