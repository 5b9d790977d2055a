"""The reader's plumbing: one locked connection, row helpers, names, and typed damage."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from store import fts
from store import jid as jids
from store.db import RECOVERY_ADVICE, corruption
from store.errors import InvalidArgument, NotFound, StoreCorrupt, StoreError
from store.models import (
    MessageKind,
)
from store.sync_state import SyncState, read_sync_state
from store.text import fold

MAX_LIMIT = 500
QUOTE_CHARS = 100
_CHUNK = 400  # bound parameters per IN (…) list, well under SQLite's limit
# Searches with more hits than this are ordered newest-stored first instead of by bm25: ranking
# costs ~2 µs per hit, so this bounds a first page to a few milliseconds (benchmarks/README.md).
RANK_CAP = 1000
# Recent-order cursors are told apart from bm25 ones (kind "search") by this prefix.
_RECENT_CURSOR_TAG = "r."

_BEST_NAME = "coalesce({p}saved_name, {p}push_name, {p}business_name)"
_MSG_COLS = (
    "m.seq, m.id, m.chat_jid, m.sender, m.sender_name, m.content, m.timestamp, m.is_from_me, "
    "m.kind, m.caption, m.media_json, m.reply_to_id, m.reply_to_sender, m.edited, m.deleted, "
    "m.is_auto_reply, m.is_placeholder, m.source, m.transcript"
)


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(f"limit must be between 1 and {MAX_LIMIT}; got {limit}.")
    return limit


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def _phone_prefix(text: str) -> str | None:
    """Digits of a number written with its `+` (like "+44" or "+44 20"): a country or area code
    that matches numbers by prefix, however short."""
    stripped = text.strip()
    if not stripped.startswith("+") or any(ch not in "0123456789 -()." for ch in stripped[1:]):
        return None
    return _digits(stripped) or None


def _who_matches(
    query: str, names: Sequence[str], jid_col: str, phone_col: str | None = None
) -> tuple[str, list[Any]]:
    """One SQL condition, with its parameters, for "the query names this chat or contact": a
    folded name or the JID contains it, the number contains its digits (three or more), or the
    number starts with a code written with its `+`. Numbers come from `phone_col` (stored as
    "+<digits>") or, without one, from the user part of the JID ("<digits>@s.whatsapp.net")."""
    q = query.strip()
    conds = [f"wa_fold({col}) LIKE ? ESCAPE '\\'" for col in names]
    conds.append(f"{jid_col} LIKE ? ESCAPE '\\'")
    params: list[Any] = [_like(fold(q))] * len(names) + [_like(q.lower())]
    number = phone_col or jid_col
    digits, prefix = _digits(q), _phone_prefix(q)
    if len(digits) >= 3:
        conds.append(f"{number} LIKE ?")
        params.append(f"%{digits}%" if phone_col else f"%{digits}%@%")
    if prefix:
        conds.append(f"{number} LIKE ?")
        params.append(f"+{prefix}%" if phone_col else f"{prefix}%@{jids.USER}")
    return "(" + " OR ".join(conds) + ")", params


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _kind(value: str) -> MessageKind:
    try:
        return MessageKind(value)
    except ValueError:
        return MessageKind.unknown


F = TypeVar("F", bound=Callable[..., Any])
T_cls = TypeVar("T_cls")
R = TypeVar("R")


def _damage_is_typed(fn: F) -> F:
    """A flipped byte can change a stored value's type without SQLite noticing (a number read
    back as text); the conversion to models then fails. Report that as damage, not a crash."""

    @functools.wraps(fn)
    def wrapper(self: ReaderBase, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except StoreError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise StoreCorrupt(
                f"A stored row in {self._path()} holds a value of the wrong type ({exc}); the "
                f"file may be damaged. {RECOVERY_ADVICE}"
            ) from exc

    return wrapper  # type: ignore[return-value]


def _guard_public_methods(cls: type[T_cls]) -> type[T_cls]:
    # The queries live in a chain of classes (store/read/); wrap each public one on the final
    # class, once.
    seen: set[str] = set()
    for klass in cls.__mro__:
        for name, value in list(vars(klass).items()):
            if name in seen or name.startswith("_") or not callable(value):
                continue
            seen.add(name)
            setattr(cls, name, _damage_is_typed(value))
    return cls


class ReaderBase:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # One sqlite3 connection is not safe for concurrent use; MCP tools run on worker threads.
        self._lock = threading.Lock()
        conn.create_function("wa_fold", 1, fold, deterministic=True)

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._conn.cursor()
            cur.row_factory = sqlite3.Row
            try:
                return cur.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                # Damaged pages surface on the query that reads them: report them typed.
                damage = corruption(exc, self._path())
                if damage is not None:
                    raise damage from exc
                raise
            finally:
                cur.close()

    def _path(self) -> str:
        try:
            return str(self._conn.execute("PRAGMA database_list").fetchone()[2])
        except sqlite3.Error:
            return "messages.db"

    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _canonical(self, text: str) -> str:
        """A JID or phone number as the JID the store keys it by (LIDs mapped when known)."""
        address = jids.parse_address(text)
        if address is None:
            raise InvalidArgument(
                f"{fts.shorten_for_error(text)!r} is neither a JID nor a phone number. Use a JID "
                "like 15551234567@s.whatsapp.net, a phone number like +15551234567, or call "
                "resolve_chat / search_contacts to turn a name into a JID."
            )
        if jids.is_lid(address):
            row = self._one("SELECT jid FROM contacts WHERE lid = ?", (address,))
            if row is not None:
                return str(row["jid"])
        return address

    def _names(self, jid_list: Iterable[str | None]) -> dict[str, str]:
        """Best contact name for each JID (also for LIDs whose mapping is known)."""
        wanted = sorted({j for j in jid_list if j})
        out: dict[str, str] = {}
        for chunk in _chunks(wanted):
            marks = _marks(len(chunk))
            for r in self._rows(
                f"SELECT jid, lid, {_BEST_NAME.format(p='')} AS name FROM contacts "
                f"WHERE jid IN ({marks}) OR lid IN ({marks})",
                [*chunk, *chunk],
            ):
                if r["name"]:
                    out[r["jid"]] = r["name"]
                    if r["lid"]:
                        out[r["lid"]] = r["name"]
        return out

    def _chat_names(self, chat_jids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(chat_jids))
        out: dict[str, str] = {}
        for chunk in _chunks(wanted):
            for r in self._rows(
                f"SELECT jid, name FROM chats WHERE jid IN ({_marks(len(chunk))})", chunk
            ):
                if r["name"]:
                    out[r["jid"]] = r["name"]
        missing = [j for j in wanted if j not in out]
        contact_names = self._names(missing)
        for j in missing:
            name = contact_names.get(j) or jids.phone_of(j)
            if name:
                out[j] = name
        return out

    def sync_state(self) -> SyncState | None:
        """The history sync as ingest last recorded it (None if never, or while being created)."""
        with self._lock:
            return read_sync_state(self._conn)

    def _account_jid(self) -> str | None:
        """The user's own JID, as the bridge recorded it on connecting."""
        row = self._one("SELECT value FROM kv WHERE key = 'account_jid'")
        return str(row["value"]) if row is not None else None

    def _message_row(self, chat_jid: str, message_id: str) -> sqlite3.Row:
        key = self._canonical(chat_jid)
        r = self._one(
            f"SELECT {_MSG_COLS} FROM messages m WHERE m.chat_jid = ? AND m.id = ?",
            (key, message_id),
        )
        if r is None:
            raise NotFound(
                f"No message {message_id!r} in chat {key}; call list_messages or search_messages "
                "to find message ids."
            )
        return r

    def with_connection(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run another store module's query (e.g. `store.coverage`) under this reader's lock."""
        with self._lock:
            return fn(self._conn)


@dataclass
class _NameMatch:
    """One JID a name matched, and what it is (for "who is who" in an ambiguity error)."""

    jid: str
    name: str
    saved: bool = False
    is_group: bool = False
    exact: bool = False

    def who(self) -> str:
        if self.is_group:
            role = "group"
        elif self.saved:
            role = "saved contact"
        elif jids.is_user(self.jid):
            role = "not a saved contact; a name they chose themselves"
        else:
            role = "chat"
        return f"{self.name} ({role}, {self.jid})"
