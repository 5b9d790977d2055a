"""`whatsapp-mcp status`: the bridge, the connection and every auto-reply rule, for a person."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from datetime import UTC, datetime

from bridge.control.errors import BridgeError
from bridge.control.lifecycle import service_record, user_stopped
from bridge.paths import DataPaths
from mcp_server.commands.base import Command, out, settings_for
from mcp_server.commands.core import client_for
from store.autoreply import AutoReplyReader, AutoReplyRule
from store.db import open_reader
from store.errors import StoreError
from store.models import to_ms


def is_live(rule: AutoReplyRule, now: datetime) -> bool:
    # As bridge/autoreply/rules.is_live; the CLI does not import the bridge's engine package.
    return rule.enabled and (rule.until is None or rule.until > now)


def _local_midnight() -> datetime:
    now = datetime.now().astimezone()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def replies_today(conn: sqlite3.Connection) -> dict[str, int]:
    """Replies sent per rule since local midnight (one reply may answer a burst of messages)."""
    rows = conn.execute(
        "SELECT rule, COUNT(DISTINCT reply_seq) FROM autoreply_ledger "
        "WHERE state = 'sent' AND at >= ? GROUP BY rule",
        (to_ms(_local_midnight()),),
    ).fetchall()
    return {str(rule): int(n) for rule, n in rows}


def rule_lines(rules: list[AutoReplyRule], today: dict[str, int], now: datetime) -> list[str]:
    live = [r for r in rules if is_live(r, now)]
    lines = [f"auto-reply: {len(live)} rule(s) on" + (":" if live else "")]
    for r in rules:
        state = "on" if is_live(r, now) else ("expired" if r.enabled else "off")
        until = r.until.astimezone().strftime("%Y-%m-%d %H:%M") if r.until else "no expiry"
        line = (
            f"  {r.chat}: {state}, {r.mode.value}, until {until}, "
            f"{today.get(r.chat, 0)} replies today"
        )
        if r.stats.last_skip_reason:
            line += f", last skipped: {r.stats.last_skip_reason}"
        if r.stats.last_error:
            line += f", last error: {r.stats.last_error}"
        lines.append(line)
    lines.append(
        "kill switch: `whatsapp-mcp autoreply off --all` switches every rule off"
        + (" (nothing is on)" if not live else "")
    )
    return lines


def _autoreply_lines(paths: DataPaths) -> list[str]:
    if not paths.messages_db.exists():
        return ["auto-reply: no store yet"]
    try:
        conn = open_reader(paths.messages_db)
    except (StoreError, sqlite3.Error) as exc:
        return [f"auto-reply: store unreadable ({exc})"]
    try:
        rules = AutoReplyReader(conn).rules()
        today = replies_today(conn)
    except sqlite3.Error as exc:
        return [f"auto-reply: store unreadable ({exc})"]
    finally:
        conn.close()
    return rule_lines(rules, today, datetime.now(UTC))


def _status(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    paths = DataPaths(settings.data_dir)
    out(f"data dir:  {paths.root}")
    record = service_record(paths)
    if record is not None:
        out(f"service:   {record.manager} ({record.unit_path})")
    code = 0
    try:
        st = asyncio.run(client_for(settings).status(timeout=5))
    except BridgeError as exc:
        why = " (stopped with `whatsapp-mcp stop`)" if user_stopped(paths) else ""
        out(f"bridge:    not running{why}: {exc.message}")
        out(f"store:     {'present' if paths.messages_db.exists() else 'not created yet'}")
        code = 1
    else:
        out(f"bridge:    running (pid {st.pid}, {st.transport}, {st.attached_clients} attached)")
        out(f"state:     {st.state.value}{' - ' + st.detail if st.detail else ''}")
        out(
            f"paired:    {'yes' if st.paired else 'no'}"
            + (f" as {st.account_jid}" if st.account_jid else "")
        )
        if st.history_sync_progress is not None:
            out(f"history:   {st.history_sync_progress}% synced")
        out(f"advice:    {st.advice}")
    for line in _autoreply_lines(paths):
        out(line)
    return code


COMMAND = Command("status", "show the bridge, the connection and the auto-reply rules", _status)
