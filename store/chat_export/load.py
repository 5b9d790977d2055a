"""Write parsed export messages into the store: who is who, stable ids, merge with synced history.

An export has no message ids, so each message gets one derived from its content: chat, time to
the minute, sender, text and an ordinal among identical repeats. Importing the same file twice
therefore hits the same ids (`ON CONFLICT DO NOTHING`), and a message that history sync already
stored (same chat, direction, sender, text, time within a minute) is skipped: the synced copy
carries the real id and media keys. The reverse order (sync after import) is handled by the
`messages_import_dedupe` trigger of the schema.

Rows are written in chunks, each its own transaction, so live messages are not held up behind a
long import, and each chunk fills the FTS index in one statement as history sync does.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from store import jid as jids
from store.chat_export.parse import YOU_NAMES, ParsedExport
from store.errors import InvalidArgument, NotFound
from store.models import MediaInfo
from store.reader import StoreReader
from store.text import fold
from store.writer import StoreWriter

CHUNK = 20_000
SOURCE = "import"
_FTS_TRIGGER = "messages_ai"
_STAGE_COLUMNS = (
    "id, chat_jid, sender, sender_name, content, timestamp, is_from_me, kind, caption, "
    "mime_type, filename, file_size, media_json, deleted, edited, reply_to_id, reply_to_sender"
)
_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS import_stage (
    ord INTEGER PRIMARY KEY, rep INTEGER NOT NULL,
    {", ".join(c + " ANY" for c in _STAGE_COLUMNS.split(", "))}
)
"""
# An imported message is skipped when at least `rep + 1` synced copies of it exist: the k-th
# repeat of "ok" in a minute is kept only if sync stored fewer than k + 1 of them.
_MERGE = f"""
INSERT INTO messages ({_STAGE_COLUMNS}, source)
SELECT {_STAGE_COLUMNS}, '{SOURCE}' FROM import_stage s
WHERE (SELECT count(*) FROM messages m
       WHERE m.chat_jid = s.chat_jid AND m.source IS NULL
         AND m.timestamp > s.timestamp - 60000 AND m.timestamp < s.timestamp + 60000
         AND m.is_from_me = s.is_from_me
         AND (s.sender IS NULL OR m.sender IS s.sender OR s.is_from_me)
         AND (CASE WHEN s.kind = 'text' THEN m.content IS s.content
                   ELSE m.kind <> 'text' END)) <= s.rep
ORDER BY s.ord
ON CONFLICT (chat_jid, id) DO NOTHING
"""
# With no synced message near the chunk's time span there is nothing to merge with: the rows go
# straight in (a re-import still meets its own ids), skipping the staging table.
_INSERT_DIRECT = f"""
INSERT INTO messages ({_STAGE_COLUMNS}, source)
VALUES ({", ".join("?" * len(_STAGE_COLUMNS.split(", ")))}, '{SOURCE}')
ON CONFLICT (chat_jid, id) DO NOTHING
"""
_SYNCED_NEAR = """
SELECT 1 FROM messages WHERE chat_jid = ? AND timestamp > ? AND timestamp < ? AND source IS NULL
LIMIT 1
"""
_REFRESH_LAST = """
UPDATE chats SET (last_message_seq, last_message_at) = (
    SELECT m.seq, max(m.timestamp, coalesce(chats.last_message_at, m.timestamp))
    FROM messages m WHERE m.chat_jid = chats.jid ORDER BY m.timestamp DESC, m.seq DESC LIMIT 1)
WHERE jid = ? AND EXISTS (SELECT 1 FROM messages WHERE chat_jid = ?)
"""

Row = tuple[object, ...]


class CannotImport(InvalidArgument):
    """The export cannot be imported as asked (unknown chat, who is "me" unclear)."""


@dataclass(frozen=True, slots=True)
class MediaFile:
    local_path: str
    size: int
    mime_type: str | None


@dataclass(slots=True)
class Target:
    """The chat an export goes into, and how its sender names map to people."""

    jid: str
    name: str | None
    is_group: bool
    me_names: set[str] = field(default_factory=lambda: set[str]())
    people: dict[str, str] = field(default_factory=lambda: dict[str, str]())


@dataclass(slots=True)
class Plan:
    target: Target
    rows: list[Row]
    media_linked: int = 0
    senders: dict[str, str | None] = field(default_factory=lambda: dict[str, str | None]())


def chat_name_from_filename(name: str) -> str | None:
    """The chat name in the phone's export file name ("WhatsApp Chat with Alice.txt")."""
    stem = name.rsplit("/", 1)[-1]
    for ext in (".txt", ".zip"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    for prefix in (
        "WhatsApp Chat with ",
        "WhatsApp Chat - ",
        "WhatsApp-Chat mit ",
        "WhatsApp Chat mit ",
        "Conversa do WhatsApp com ",
        "Chat de WhatsApp con ",
        "Discussion WhatsApp avec ",
    ):
        if stem.startswith(prefix):
            return stem[len(prefix) :].strip() or None
    return None


def resolve_target(
    reader: StoreReader,
    parsed: ParsedExport,
    *,
    chat: str | None,
    filename: str,
    my_name: str | None,
    account_jid: str | None,
) -> Target:
    """Find the chat (given, or named by the file) and decide who each sender name is."""
    hint = chat or chat_name_from_filename(filename)
    if not hint:
        raise CannotImport(
            f"Cannot tell which chat {filename!r} belongs to. Pass chat= with the chat's name, "
            "phone number or JID (list_chats shows them)."
        )
    try:
        jid, display = reader.resolve_recipient(hint)
    except NotFound as exc:
        raise CannotImport(
            f"{exc} Or pass chat= with the chat's JID or the person's phone number "
            "(+ and country code): a person's chat need not exist yet."
        ) from exc
    is_group = jids.is_group(jid)
    target = Target(jid=jid, name=display, is_group=is_group)
    target.me_names = {fold(n) for n in YOU_NAMES}
    if my_name:
        target.me_names.add(fold(my_name))
    names = {m.sender_name for m in parsed.messages if m.sender_name}
    members: set[str] = {jid}
    info = None
    if is_group:
        try:
            info = reader.get_chat(jid)
        except NotFound:
            info = None
        members = {p.jid for p in (info.participants or [])} if info else set()
    known = _names_of(reader, members | ({account_jid} if account_jid else set()))
    if account_jid:
        target.me_names |= known.pop(account_jid, set())
    if is_group:
        # The exporting phone writes its saved name for a person, else their push name.
        for p in info.participants if info and info.participants else []:
            for n in known.get(p.jid, set()) | ({fold(p.name)} if p.name else set()):
                target.people.setdefault(n, p.jid)
        return target
    # 1:1: every other name is the peer. Without my_name, the name that is not the chat's is me.
    peer = {fold(x) for x in (display, hint) if x} | known.get(jid, set())
    others = {fold(n) for n in names} - target.me_names
    if not my_name and len(others) == 2:
        mine = others - peer
        if len(mine) != 1:
            raise CannotImport(
                f"The export has two senders ({', '.join(sorted(n for n in names))}) and neither "
                "matches a known name of the account. Pass my_name= with the name your own "
                "messages show in the export."
            )
        target.me_names |= mine
    elif not my_name and len(others) > 2:
        raise CannotImport(
            f"The export has {len(others)} senders but {jid} is not a group. Pass chat= with the "
            "group, or my_name= with the name your own messages show."
        )
    for n in names:
        if fold(n) not in target.me_names:
            target.people[fold(n)] = jid
    return target


def _names_of(reader: StoreReader, people: set[str]) -> dict[str, set[str]]:
    """Every saved, push and business name of `people`, folded, by JID."""
    out: dict[str, set[str]] = {}
    if not people:
        return out
    cursor: str | None = None
    while True:
        page = reader.search_contacts("", limit=500, cursor=cursor)
        for c in page.items:
            if c.jid in people:
                names = {c.saved_name, c.push_name, c.business_name}
                out[c.jid] = {fold(n) for n in names if n}
        cursor = page.next_cursor
        if cursor is None:
            return out


def _stable_id(chat: str, ts: int, who: str, what: str, rep: int) -> str:
    """`imp-<minute in hex>-<hash>`: the minute first, so a long import appends to the
    (chat_jid, id) index instead of inserting at random places (3x faster at 300k rows)."""
    minute = ts // 60000
    key = f"{chat}\x1f{minute}\x1f{who}\x1f{what}\x1f{rep}".encode()
    return f"imp-{minute:08x}-{hashlib.blake2b(key, digest_size=10).hexdigest()}"


def plan_export(
    parsed: ParsedExport, target: Target, media: Callable[[str], MediaFile | None]
) -> Plan:
    """Staging rows for every parsed message, in file order."""
    plan = Plan(target=target, rows=[])
    seen: dict[tuple[int, str, str], int] = {}
    folds: dict[str, str] = {}
    chat = target.jid
    for i, m in enumerate(parsed.messages):
        name = m.sender_name
        folded = ""
        if name:
            folded = folds.get(name) or folds.setdefault(name, fold(name))
        from_me = bool(name) and folded in target.me_names
        sender = None if from_me or not name else target.people.get(folded)
        if name:
            plan.senders.setdefault(name, "me" if from_me else sender)
        # The id rests on the name as written, not on whom it maps to today, so a contact
        # saved (or a different my_name given) after the first import makes no second copy.
        who = f"name:{folded}" if name else "system"
        what = m.text or m.filename or m.caption or m.kind
        minute = m.timestamp_ms // 60000
        rep = seen.get((minute, who, what), 0)
        seen[(minute, who, what)] = rep + 1
        info: MediaInfo | None = None
        if m.filename:
            found = media(m.filename)
            info = MediaInfo(filename=m.filename)
            if found is not None:
                plan.media_linked += 1
                info = MediaInfo(
                    filename=m.filename,
                    local_path=found.local_path,
                    file_size=found.size,
                    mime_type=found.mime_type,
                )
        plan.rows.append(
            (
                i,
                rep,
                _stable_id(chat, m.timestamp_ms, who, what, rep),
                chat,
                sender,
                None if from_me else name,
                m.text,
                m.timestamp_ms,
                int(from_me),
                m.kind,
                m.caption,
                info.mime_type if info else None,
                info.filename if info else None,
                info.file_size if info else None,
                info.model_dump_json(exclude_none=True) if info else None,
                int(m.deleted),
                int(m.edited),
                None,
                None,
            )
        )
    return plan


def write_rows(
    writer: StoreWriter, rows: Sequence[Row], chats: Iterable[tuple[str, str | None, bool]]
) -> int:
    """Stage and merge one chunk in one transaction; returns how many messages were new."""
    with writer.transaction() as c:
        for jid, name, is_group in chats:
            c.execute(
                "INSERT INTO chats (jid, name, is_group) VALUES (?, ?, ?) "
                "ON CONFLICT (jid) DO UPDATE SET name = coalesce(chats.name, excluded.name)",
                (jid, name, int(is_group)),
            )
        direct = not any(_synced_near(c, chat_rows) for chat_rows in _by_chat(rows).values())
        if not direct:
            c.execute(_CREATE_STAGE)
            c.execute("DELETE FROM import_stage")
            marks = ", ".join("?" * (len(_STAGE_COLUMNS.split(", ")) + 2))
            c.executemany(f"INSERT INTO import_stage VALUES ({marks})", rows)
        first_seq = int(c.execute("SELECT coalesce(max(seq), 0) + 1 FROM messages").fetchone()[0])
        trig = c.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (_FTS_TRIGGER,)
        ).fetchone()
        # Same move as history sync: index the new rows in one statement, not row by row; the
        # trigger is back before the transaction ends, so no reader sees it missing.
        if trig is not None:
            c.execute(f"DROP TRIGGER {_FTS_TRIGGER}")
        if direct:
            c.executemany(_INSERT_DIRECT, [r[2:] for r in rows])
        else:
            c.execute(_MERGE)
            c.execute("DELETE FROM import_stage")
        if trig is not None:
            c.execute(
                "INSERT INTO messages_fts (rowid, content, caption) "
                "SELECT seq, content, caption FROM messages WHERE seq >= ?",
                (first_seq,),
            )
            c.execute(str(trig[0]))
        new = int(
            c.execute("SELECT count(*) FROM messages WHERE seq >= ?", (first_seq,)).fetchone()[0]
        )
        touched = {str(r[3]) for r in rows}
        c.executemany(_REFRESH_LAST, [(j, j) for j in touched])
        return new


def _by_chat(rows: Sequence[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(str(r[3]), []).append(r)
    return out


def _synced_near(c: sqlite3.Connection, rows: list[Row]) -> bool:
    times = [int(str(r[7])) for r in rows]
    lo, hi = min(times) - 60_000, max(times) + 60_000
    return c.execute(_SYNCED_NEAR, (rows[0][3], lo, hi)).fetchone() is not None


def write_reactions(writer: StoreWriter, reactions: Sequence[Row]) -> None:
    """(chat_jid, message_id, sender, emoji, timestamp) rows; the newest per sender wins."""
    if not reactions:
        return
    with writer.transaction() as c:
        c.executemany(
            """
            INSERT INTO reactions (chat_jid, message_id, sender, emoji, timestamp)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (chat_jid, message_id, sender) DO UPDATE SET
                emoji = excluded.emoji, timestamp = excluded.timestamp
            WHERE excluded.timestamp >= reactions.timestamp
            """,
            reactions,
        )


def chunks(rows: Sequence[Row], size: int = CHUNK) -> Iterable[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
