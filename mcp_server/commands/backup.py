"""`whatsapp-mcp backup DEST [--session]`: a consistent copy of the store, bridge running or not.

Copying `messages.db` with `cp` while the bridge writes gives a torn file (or, without the WAL,
one with no tables); SQLite's online backup API copies a consistent snapshot page by page and
includes what the WAL holds. The session (`session.db`, the WhatsApp keys) is copied only with
`--session`: whoever holds that copy can read and send as the account.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from pathlib import Path

from bridge.paths import DataPaths
from mcp_server.commands.base import Command, UsageError, out, settings_for

SESSION_WARNING = (
    "WARNING: session.db holds this device's WhatsApp keys. Anyone with the copy can read and "
    "send as you: keep it private, and never restore it on two machines at once."
)


def backup_file(source: Path, dest: Path) -> int:
    """Copy one SQLite file with the backup API into a new 0600 file; returns its page count.
    Raises UsageError when `dest` exists (a backup never overwrites anything)."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(dest)
        try:
            # Small steps let the bridge's writer in between; a write during a step restarts
            # the copy, so the result is one consistent snapshot.
            src.backup(dst, pages=1024)
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
            # A plain rollback-journal file: the copy is one self-contained file.
            dst.execute("PRAGMA journal_mode = DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if check != "ok":
        raise UsageError(
            f"the copy {dest} failed integrity_check ({check}); the original is intact"
        )
    return pages


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dest", help="a new or empty folder for the copy")
    p.add_argument(
        "--session",
        action="store_true",
        help="also copy session.db (the WhatsApp keys: restoring it avoids pairing again)",
    )


def _run(args: argparse.Namespace) -> int:
    paths = DataPaths(settings_for(args).data_dir)
    if not paths.messages_db.exists():
        raise UsageError(f"no store at {paths.messages_db}: check --data-dir")
    dest = Path(args.dest).expanduser().absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} exists and is not an empty folder: give a new folder")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(dest, 0o700)
    names = [("messages.db", paths.messages_db)]
    if args.session:
        if not paths.session_db.exists():
            raise UsageError(f"no session at {paths.session_db} (not paired?): omit --session")
        out(SESSION_WARNING)
        names.append(("session.db", paths.session_db))
    for name, source in names:
        pages = backup_file(source, dest / name)
        out(f"copied {source} -> {dest / name} ({pages} pages, integrity ok)")
    return 0


COMMAND = Command(
    "backup", "copy the store (and with --session the WhatsApp keys) into a new folder", _run, _args
)
