"""One import, start to end: open the file, parse, find the chat and the people, plan the rows,
then hand chunks to a writer. The writing is a callback so the bridge can run each chunk on its
writer thread (live messages interleave) and the offline CLI can write directly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from store.chat_export import load
from store.chat_export.export import ExportedMessage, loads_line
from store.chat_export.parse import BadLine, DateOrder, DateOrderUnknown, parse_export
from store.chat_export.source import ExportFile, media_linker, open_export, zone
from store.errors import InvalidArgument
from store.models import MediaInfo, to_ms
from store.reader import StoreReader
from store.writer import StoreWriter

MAX_REPORTED_BAD_LINES = 20


class BadLineReport(BaseModel):
    line: int = Field(description="1-based line number in the export's text.")
    text: str = Field(description="The start of the line.")
    reason: str


class ImportReport(BaseModel):
    file: str
    format: str = Field(description="android, ios or jsonl.")
    chat_jid: str | None = Field(default=None, description="The chat imported into (text exports).")
    chat_name: str | None = None
    date_order: str | None = Field(default=None, description="dmy, mdy or ymd, as read.")
    timezone: str | None = None
    messages_in_file: int
    imported: int = Field(description="Messages new to the store.")
    already_present: int = Field(
        description="Messages skipped: imported before, or already synced from the phone."
    )
    media_linked: int = 0
    senders: dict[str, str | None] = Field(
        default_factory=lambda: dict[str, str | None](),
        description='Each sender name in the export → its JID, "me", or null (name only).',
    )
    bad_line_count: int = 0
    bad_lines: list[BadLineReport] = Field(
        default_factory=lambda: list[BadLineReport](),
        description=f"Lines that could not be read (first {MAX_REPORTED_BAD_LINES}); the rest "
        "was imported.",
    )


Progress = Callable[[int, int], None]
WriteChunk = Callable[[Sequence[load.Row], list[tuple[str, str | None, bool]]], int]


@dataclass(slots=True)
class Prepared:
    report: ImportReport
    rows: list[load.Row]
    chats: list[tuple[str, str | None, bool]]
    reactions: list[load.Row] = field(default_factory=lambda: list[load.Row]())


def _bad(lines: list[BadLine]) -> list[BadLineReport]:
    return [
        BadLineReport(line=b.line, text=b.text, reason=b.reason)
        for b in lines[:MAX_REPORTED_BAD_LINES]
    ]


def prepare(
    path: Path,
    reader: StoreReader,
    *,
    chat: str | None,
    my_name: str | None,
    timezone: str | None,
    date_order: DateOrder | None,
    media_dir: Path,
    account_jid: str | None,
    resolve_jid: Callable[[str], str] = lambda j: j,
) -> Prepared:
    export = open_export(path)
    if export.kind == "jsonl":
        return _prepare_jsonl(export, resolve_jid)
    tz = zone(timezone)
    try:
        parsed = parse_export(export.text, tz=tz, date_order=date_order)
    except DateOrderUnknown as exc:
        raise InvalidArgument(str(exc)) from exc
    target = load.resolve_target(
        reader, parsed, chat=chat, filename=path.name, my_name=my_name, account_jid=account_jid
    )
    safe_chat = target.jid.replace("@", "_").replace("/", "_")
    linker = media_linker(export, media_dir / "imports" / safe_chat)
    try:
        plan = load.plan_export(parsed, target, linker)
    finally:
        linker.close()
    report = ImportReport(
        file=path.name,
        format=parsed.style,
        chat_jid=target.jid,
        chat_name=target.name,
        date_order=parsed.date_order,
        timezone=str(tz),
        messages_in_file=len(plan.rows),
        imported=0,
        already_present=0,
        media_linked=plan.media_linked,
        senders=plan.senders,
        bad_line_count=len(parsed.bad_lines),
        bad_lines=_bad(parsed.bad_lines),
    )
    return Prepared(report, plan.rows, [(target.jid, target.name, target.is_group)])


def _prepare_jsonl(export: ExportFile, resolve_jid: Callable[[str], str]) -> Prepared:
    rows: list[load.Row] = []
    reactions: list[load.Row] = []
    chats: dict[str, tuple[str, str | None, bool]] = {}
    bad: list[BadLine] = []
    for number, line in enumerate(export.text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            m: ExportedMessage = loads_line(line)
            chat = resolve_jid(m.chat_jid)
        except (ValueError, ValidationError) as exc:
            bad.append(BadLine(number, line[:200], f"not an exported message: {exc}"[:300]))
            continue
        chats.setdefault(chat, (chat, m.chat_name, chat.endswith("@g.us")))
        info = (
            MediaInfo(mime_type=m.mime_type, filename=m.filename)
            if m.mime_type or m.filename
            else None
        )
        rows.append(
            (
                len(rows),
                0,
                m.id,
                chat,
                m.sender,
                m.sender_name,
                m.text,
                to_ms(m.timestamp),
                int(m.is_from_me),
                m.kind,
                m.caption,
                m.mime_type,
                m.filename,
                None,
                info.model_dump_json(exclude_none=True) if info else None,
                int(m.deleted),
                int(m.edited),
                m.reply_to_id,
                m.reply_to_sender,
            )
        )
        reactions += [
            (chat, m.id, r.sender, r.emoji, to_ms(r.timestamp or m.timestamp)) for r in m.reactions
        ]
    report = ImportReport(
        file=export.path.name,
        format="jsonl",
        chat_jid=next(iter(chats)) if len(chats) == 1 else None,
        messages_in_file=len(rows),
        imported=0,
        already_present=0,
        bad_line_count=len(bad),
        bad_lines=_bad(bad),
    )
    return Prepared(report, rows, list(chats.values()), reactions)


def commit(prepared: Prepared, write: WriteChunk, progress: Progress | None = None) -> ImportReport:
    """Write the planned rows chunk by chunk; the report gets the counts."""
    total = len(prepared.rows)
    new = 0
    done = 0
    if progress is not None:
        progress(0, total)
    for chunk in load.chunks(prepared.rows):
        new += write(chunk, prepared.chats)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    report = prepared.report.model_copy(update={"imported": new, "already_present": total - new})
    return report


def import_offline(
    path: Path,
    writer: StoreWriter,
    reader: StoreReader,
    media_dir: Path,
    *,
    chat: str | None = None,
    my_name: str | None = None,
    timezone: str | None = None,
    date_order: DateOrder | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """The whole import on one thread (CLI with the bridge lock held, tests, benchmarks)."""
    prepared = prepare(
        path,
        reader,
        chat=chat,
        my_name=my_name,
        timezone=timezone,
        date_order=date_order,
        media_dir=media_dir,
        account_jid=writer.get_kv("account_jid"),
        resolve_jid=writer.resolve_jid,
    )
    report = commit(prepared, lambda rows, chats: load.write_rows(writer, rows, chats), progress)
    load.write_reactions(writer, prepared.reactions)
    return report
