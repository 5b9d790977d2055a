"""`whatsapp-mcp import` and `whatsapp-mcp export`: your history in and out of the store.

Import goes through the bridge when one runs (it is the only writer; a file outside the import
folder is first copied into it). With no bridge running, the CLI takes the bridge lock itself, so
no bridge can start and write meanwhile, and writes the store directly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError, BridgeUnavailable
from bridge.control.importing import (
    ImportReport,
    ImportRequest,
    check_import_path,
    import_progress,
    import_roots,
    import_via_bridge,
)
from bridge.control.lockfile import AlreadyRunning, BridgeLock
from bridge.paths import DataPaths
from bridge.settings import Settings
from mcp_server.commands.base import Command, settings_for
from store.chat_export.export import export_to, write_contacts
from store.chat_export.run import import_offline
from store.db import open_reader, open_writer
from store.errors import StoreError
from store.reader import StoreReader
from store.writer import StoreWriter


def add_import_args(imp: argparse.ArgumentParser) -> None:
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--chat", help="chat JID, phone number or name (default: from the file name)")
    imp.add_argument("--my-name", help="the name your own messages show in the export")
    imp.add_argument("--timezone", help="IANA zone the phone showed times in (default: local)")
    imp.add_argument("--date-order", choices=["dmy", "mdy", "ymd"], help="when dates are ambiguous")


def add_export_args(exp: argparse.ArgumentParser) -> None:
    exp.add_argument("dest", metavar="DEST")
    exp.add_argument("--chat", action="append", help="chat JID, phone or name (repeatable)")
    exp.add_argument("--format", required=True, choices=["json", "jsonl", "md", "csv", "vcf"])
    exp.add_argument("--contacts", action="store_true", help="export contacts instead (vcf/csv)")


def run(command: str, args: argparse.Namespace, settings: Settings) -> int:
    try:
        if command == "import":
            return _import(args, settings)
        return _export(args, settings)
    except (StoreError, BridgeError) as exc:
        sys.stderr.write(_as_cli_advice(str(getattr(exc, "message", None) or exc)) + "\n")
        return 1


def _as_cli_advice(text: str) -> str:
    """The import errors name the tool's arguments; on the command line they are options."""
    for tool_arg, option in (
        ('date_order="dmy"', "--date-order dmy"),
        ('"mdy"', "--date-order mdy"),
        ("my_name=", "--my-name"),
        ("chat=", "--chat"),
        ("date_order=", "--date-order"),
    ):
        text = text.replace(tool_arg, option)
    return text


class ProgressBar:
    """`[#####.....] 12,000/300,000 messages` on stderr, redrawn at most 10 times a second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = width if total == 0 else width * done // total
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} messages"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _summary(report: ImportReport) -> str:
    parts = [
        f"{report.file}: {report.imported} imported, {report.already_present} already present",
        f"into {report.chat_name or report.chat_jid}" if report.chat_jid else "",
        f"{report.media_linked} media linked" if report.media_linked else "",
    ]
    text = ", ".join(p for p in parts if p)
    for bad in report.bad_lines:
        text += f"\n  line {bad.line}: {bad.reason}: {bad.text}"
    if report.bad_line_count > len(report.bad_lines):
        text += f"\n  … and {report.bad_line_count - len(report.bad_lines)} more unreadable lines"
    return text


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _import(args: argparse.Namespace, settings: Settings) -> int:
    paths = DataPaths(settings.data_dir)
    client = ControlClient(paths, tcp=settings.control_transport == "tcp")
    try:
        asyncio.run(client.health(timeout=2))
        running = True
    except BridgeError:
        running = False
    files = [Path(f).expanduser().resolve() for f in args.files]
    for f in files:
        if not f.is_file():
            sys.stderr.write(f"{f}: no such file\n")
            return 2
    if running:
        for f in files:
            _out(_summary(asyncio.run(_import_via_bridge(client, settings, f, args))))
        return 0
    lock = BridgeLock(paths.lock)
    paths.ensure()
    try:
        lock.acquire()
    except AlreadyRunning:
        sys.stderr.write("A bridge is starting for this data dir; try again in a moment.\n")
        return 1
    try:
        conn = open_writer(paths.messages_db)
        rconn = open_reader(paths.messages_db)
        try:
            writer, reader = StoreWriter(conn), StoreReader(rconn)
            for f in files:
                report = import_offline(
                    f,
                    writer,
                    reader,
                    paths.media,
                    chat=args.chat,
                    my_name=args.my_name,
                    timezone=args.timezone,
                    date_order=args.date_order,
                    progress=ProgressBar(f.name),
                )
                _out(_summary(report))
        finally:
            rconn.close()
            conn.close()
    finally:
        lock.release()
    return 0


async def _import_via_bridge(
    client: ControlClient, settings: Settings, path: Path, args: argparse.Namespace
) -> ImportReport:
    roots = import_roots(settings.import_roots, settings.data_dir)
    try:
        target = check_import_path(str(path), roots)
    except StoreError:
        # The bridge reads only from the import folder: hand it a private copy there.
        roots[0].mkdir(parents=True, exist_ok=True, mode=0o700)
        target = roots[0] / path.name
        shutil.copyfile(path, target)
        os.chmod(target, 0o600)
    job = uuid.uuid4().hex
    bar = ProgressBar(path.name)
    task = asyncio.create_task(
        import_via_bridge(
            client,
            ImportRequest(
                path=str(target),
                chat=args.chat,
                my_name=args.my_name,
                timezone=args.timezone,
                date_order=args.date_order,
                job=job,
            ),
        )
    )
    while not task.done():
        await asyncio.wait([task], timeout=0.2)
        if task.done():
            break
        try:
            p = await import_progress(client, job)
        except (BridgeUnavailable, BridgeError):
            continue
        if p.stage == "writing":
            bar(p.done, p.total)
    report = task.result()
    bar(report.messages_in_file, report.messages_in_file)
    return report


def _export(args: argparse.Namespace, settings: Settings) -> int:
    paths = DataPaths(settings.data_dir)
    conn = open_reader(paths.messages_db)
    dest = Path(args.dest).expanduser()
    try:
        if args.contacts or args.format == "vcf":
            if args.format not in ("vcf", "csv"):
                sys.stderr.write("--contacts exports as --format vcf or --format csv.\n")
                return 2
            with open(dest, "w", encoding="utf-8", newline="") as out:
                n = write_contacts(conn, "vcf" if args.format == "vcf" else "csv", out)
            _out(f"{n} contacts written to {dest}")
            return 0
        reader = StoreReader(conn)
        chats = [reader.resolve_chat(c) for c in args.chat] if args.chat else None
        n = export_to(conn, dest, args.format, chats)
        _out(f"{n} messages written to {dest}")
        return 0
    finally:
        conn.close()


def _run(name: str) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        return run(name, args, settings_for(args))

    return command


COMMANDS = [
    Command(
        "import",
        "import the phone's Export chat files (.txt/.zip/.jsonl)",
        _run("import"),
        add_import_args,
    ),
    Command(
        "export",
        "export messages (json/jsonl/md/csv) or contacts (vcf/csv)",
        _run("export"),
        add_export_args,
    ),
]
