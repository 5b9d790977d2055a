"""Messages and contacts out to open formats: JSON, JSONL, Markdown, CSV, vCard.

Reads with sqlite-utils (`rows_where`) on a read-only connection, one chat at a time and row by
row, so exporting a million messages needs no more memory than one chat's reactions. The JSONL
form is also an import format (`ExportedMessage` both ways), so an export can be loaded into a
fresh store message for message.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils import Database

from store import jid as jids
from store.models import from_ms

Format = Literal["json", "jsonl", "md", "csv"]
ContactFormat = Literal["vcf", "csv"]

_BEST = "coalesce(saved_name, push_name, business_name)"


class ExportedReaction(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sender: str
    emoji: str
    timestamp: datetime | None = None


class ExportedMessage(BaseModel):
    """One message as exported (and as a JSONL import reads it back)."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)
    chat_jid: str = Field(min_length=1)
    chat_name: str | None = None
    sender: str | None = None
    sender_name: str | None = None
    sender_phone: str | None = None
    timestamp: datetime
    is_from_me: bool = False
    kind: str = "text"
    text: str | None = None
    caption: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    reply_to_id: str | None = None
    reply_to_sender: str | None = None
    reactions: list[ExportedReaction] = Field(default_factory=lambda: list[ExportedReaction]())
    edited: bool = False
    deleted: bool = False
    source: str | None = None


def _names(db: Database) -> dict[str, str]:
    return {
        str(r["jid"]): str(r["name"])
        for r in db.query(f"SELECT jid, {_BEST} AS name FROM contacts WHERE {_BEST} IS NOT NULL")
    }


def iter_messages(
    conn: sqlite3.Connection, chats: list[str] | None = None
) -> Iterator[ExportedMessage]:
    """Every message of `chats` (all chats when None), chat by chat, oldest first."""
    db = Database(conn)
    names = _names(db)
    chat_names = {str(r["jid"]): r["name"] for r in db["chats"].rows_where(select="jid, name")}
    for chat in chats if chats is not None else sorted(chat_names):
        reactions: dict[str, list[ExportedReaction]] = {}
        for r in db["reactions"].rows_where(
            "chat_jid = ? AND emoji <> ''", [chat], order_by="timestamp"
        ):
            reactions.setdefault(str(r["message_id"]), []).append(
                ExportedReaction(
                    sender=str(r["sender"]),
                    emoji=str(r["emoji"]),
                    timestamp=from_ms(r["timestamp"]),
                )
            )
        for r in db["messages"].rows_where("chat_jid = ?", [chat], order_by="timestamp, seq"):
            sender = r["sender"]
            yield ExportedMessage(
                id=r["id"],
                chat_jid=chat,
                chat_name=chat_names.get(chat) or names.get(chat),
                sender=sender,
                sender_name=(names.get(sender) if sender else None) or r["sender_name"],
                sender_phone=jids.phone_of(sender) if sender else None,
                timestamp=from_ms(r["timestamp"]),
                is_from_me=bool(r["is_from_me"]),
                kind=r["kind"],
                text=r["content"],
                caption=r["caption"],
                mime_type=r["mime_type"],
                filename=r["filename"],
                reply_to_id=r["reply_to_id"],
                reply_to_sender=r["reply_to_sender"],
                reactions=reactions.get(str(r["id"]), []),
                edited=bool(r["edited"]),
                deleted=bool(r["deleted"]),
                source=r.get("source"),
            )


_CSV_FIELDS = [
    "chat_jid", "chat_name", "id", "timestamp", "sender", "sender_name", "sender_phone",
    "is_from_me", "kind", "text", "caption", "mime_type", "filename", "reply_to_id", "reactions",
    "edited", "deleted", "source",
]  # fmt: skip


def write_messages(messages: Iterator[ExportedMessage], fmt: Format, out: IO[str]) -> int:
    """Write `messages` to `out` in `fmt`; returns how many were written."""
    n = 0
    if fmt == "csv":
        w = csv.DictWriter(out, fieldnames=_CSV_FIELDS)
        w.writeheader()
        for m in messages:
            row = m.model_dump(mode="json")
            row["reactions"] = " ".join(f"{r.emoji}:{r.sender}" for r in m.reactions)
            w.writerow({k: row.get(k) for k in _CSV_FIELDS})
            n += 1
        return n
    if fmt == "md":
        chat: str | None = None
        for m in messages:
            if m.chat_jid != chat:
                chat = m.chat_jid
                title = f"{m.chat_name} ({chat})" if m.chat_name else chat
                out.write(f"{'' if n == 0 else chr(10)}## {title}\n\n")
            out.write(_md_line(m) + "\n")
            n += 1
        return n
    if fmt == "json":
        out.write("[")
        for m in messages:
            out.write(("," if n else "") + "\n" + m.model_dump_json())
            n += 1
        out.write("\n]\n")
        return n
    for m in messages:
        out.write(m.model_dump_json() + "\n")
        n += 1
    return n


def _md_line(m: ExportedMessage) -> str:
    when = m.timestamp.strftime("%Y-%m-%d %H:%M UTC")
    body = m.text or m.caption or ""
    if m.kind == "system":
        return f"- {when} _{body}_"
    who = "me" if m.is_from_me else (m.sender_name or m.sender_phone or m.sender or "?")
    if m.deleted:
        body = "[deleted]"
    elif m.kind == "unknown" and not body:
        body = "[media not included]"
    elif m.kind != "text":
        body = f"[{m.kind}{': ' + m.filename if m.filename else ''}] {body}".rstrip()
    line = f"- {when} **{who}**: " + body.replace("\n", "\n  ")
    if m.edited:
        line += " _(edited)_"
    if m.reactions:
        line += " (" + " ".join(r.emoji for r in m.reactions) + ")"
    return line


def write_contacts(conn: sqlite3.Connection, fmt: ContactFormat, out: IO[str]) -> int:
    """Contacts (people with a phone-number JID) as vCard 3.0 or CSV."""
    db = Database(conn)
    rows = list(
        db["contacts"].rows_where(
            "jid LIKE '%@s.whatsapp.net'",
            select=f"jid, phone, saved_name, push_name, business_name, {_BEST} AS name",
            order_by="coalesce(saved_name, push_name, business_name, jid)",
        )
    )
    if fmt == "csv":
        fields = ["jid", "phone", "name", "saved_name", "push_name", "business_name"]
        w = csv.DictWriter(out, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in fields})
        return len(rows)
    for r in rows:
        phone = (r["phone"] or jids.phone_of(r["jid"]) or "").lstrip("+")
        name = _vcard_escape(r["name"] or (f"+{phone}" if phone else r["jid"]))
        out.write("BEGIN:VCARD\r\nVERSION:3.0\r\n")
        out.write(f"FN:{name}\r\nN:{name};;;;\r\n")
        if phone:
            out.write(f"TEL;TYPE=CELL;waid={phone}:+{phone}\r\n")
        out.write("END:VCARD\r\n")
    return len(rows)


def _vcard_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def export_to(conn: sqlite3.Connection, dest: Path, fmt: Format, chats: list[str] | None) -> int:
    with open(dest, "w", encoding="utf-8", newline="") as out:
        return write_messages(iter_messages(conn, chats), fmt, out)


def loads_line(line: str) -> ExportedMessage:
    return ExportedMessage.model_validate(json.loads(line))
