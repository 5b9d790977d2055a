"""What whatsmeow already keeps in `session.db`, read with plain sqlite3 (never through Go).

neonize's `contact.get_all_contacts()` aborts the whole process (a Go nil dereference) when Go
has no client for our uuid, which is the state right after `stop()`, and whatsmeow fills its
contact store from app state *after* `Connected`, which neonize forwards no event for. Reading
whatsmeow's own tables read-only has neither problem: it works in any state, offline, and can
be repeated on a timer. Schema: whatsmeow `store/sqlstore/upgrades/00-latest-schema.sql`
(`whatsmeow_device`, `whatsmeow_contacts`, `whatsmeow_lid_map`).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

from pydantic import BaseModel

from store.jid import is_lid, is_user, normalize_jid
from store.models import ContactRecord

logger = logging.getLogger(__name__)


class PairedDevice(BaseModel):
    """The `whatsmeow_device` row: my phone JID and (once known) my LID, both normalised."""

    jid: str
    lid: str | None = None


def _query(session_path: Path, sql: str) -> list[tuple[object, ...]] | None:
    """Rows of `sql`, or None when the file or table does not exist (yet)."""
    if not session_path.exists():
        return None
    try:
        uri = f"file:{session_path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=2.0)) as db:
            return list(db.execute(sql))
    except sqlite3.Error as exc:
        logger.debug("session.db: %s: %s", sql.split(" FROM ")[-1], exc)
        return None


def _norm(raw: object, server: str | None = None) -> str | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if server and "@" not in text:
        text = f"{text}@{server}"
    try:
        return normalize_jid(text)
    except Exception:
        return None


def read_device(session_path: Path) -> PairedDevice | None:
    rows = _query(session_path, "SELECT jid, lid FROM whatsmeow_device LIMIT 1")
    if rows is None:  # an older whatsmeow schema, before the lid column
        rows = [(*r, None) for r in _query(session_path, "SELECT jid FROM whatsmeow_device") or []]
    if not rows or not rows[0][0]:
        return None
    jid = _norm(rows[0][0]) or str(rows[0][0])
    lid = _norm(rows[0][1])
    return PairedDevice(jid=jid, lid=lid if lid and is_lid(lid) else None)


def read_paired_account(session_path: Path) -> str | None:
    """The paired account's JID, without Go or a connection; None means not paired."""
    device = read_device(session_path)
    return device.jid if device else None


def read_lid_map(session_path: Path) -> dict[str, str]:
    """`@lid` → phone JID from `whatsmeow_lid_map` (whatsmeow stores user parts only)."""
    out: dict[str, str] = {}
    for lid_raw, pn_raw in _query(session_path, "SELECT lid, pn FROM whatsmeow_lid_map") or []:
        lid, pn = _norm(lid_raw, "lid"), _norm(pn_raw, "s.whatsapp.net")
        if lid and pn and is_lid(lid) and is_user(pn):
            out[lid] = pn
    return out


def _name(value: object) -> str | None:
    text = str(value or "").strip()
    return text if text and text != "-" else None  # whatsmeow's placeholder push name


def read_directory(session_path: Path) -> list[ContactRecord]:
    """Saved, push and business names plus every LID mapping, as contact records.

    `@lid` rows are mapped through the LID map; a LID row whose phone number is not known yet
    is skipped (the next read, after whatsmeow learns the mapping, picks it up). My own LID is
    linked to my phone JID so my messages in LID-addressed groups are mine.
    """
    lid_map = read_lid_map(session_path)
    records: dict[str, ContactRecord] = {}
    pn_to_lid = {pn: lid for lid, pn in lid_map.items()}
    rows = _query(
        session_path,
        "SELECT their_jid, first_name, full_name, push_name, business_name FROM whatsmeow_contacts",
    )
    for their, first, full, push, business in rows or []:
        jid = _norm(their)
        if jid and is_lid(jid):
            jid = lid_map.get(jid)
        if not jid or not is_user(jid):
            continue
        old = records.get(jid)
        records[jid] = ContactRecord(
            jid=jid,
            lid=pn_to_lid.get(jid),
            saved_name=_name(full) or _name(first) or (old.saved_name if old else None),
            push_name=_name(push) or (old.push_name if old else None),
            business_name=_name(business) or (old.business_name if old else None),
        )
    for pn, lid in pn_to_lid.items():
        if pn not in records:
            records[pn] = ContactRecord(jid=pn, lid=lid)
    device = read_device(session_path)
    if device and device.lid and is_user(device.jid):
        mine = records.get(device.jid)
        records[device.jid] = (mine or ContactRecord(jid=device.jid)).model_copy(
            update={"lid": device.lid}
        )
    return list(records.values())
