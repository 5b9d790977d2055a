"""Schema migrations: append-only, forward-only, one transaction each.

`PRAGMA user_version` is the schema version. Each migration runs inside `BEGIN IMMEDIATE …
COMMIT` together with the version bump, so a crash leaves the old version or the new one,
never a mix. Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import sqlite3

from store.errors import SchemaTooNew
from store.schema_v5 import (
    _V_ISSUE_12_WIRE,
    _V_ISSUE_13_GROUP_OWNER,
    _V_ISSUE_16_HISTORY_COVERAGE,
    _V_ISSUE_17_IMPORT_SOURCE,
    _V_ISSUE_18_TRANSCRIPTS_SCHEDULE,
)
from store.tx import transaction

_V1 = """
CREATE TABLE chats (
    jid TEXT PRIMARY KEY,
    name TEXT,
    is_group INTEGER NOT NULL DEFAULT 0,
    topic TEXT,
    unread_count INTEGER NOT NULL DEFAULT 0,
    last_message_at INTEGER,
    last_message_seq INTEGER
);
CREATE INDEX chats_by_activity ON chats (last_message_at DESC, jid);

CREATE TABLE contacts (
    jid TEXT PRIMARY KEY,
    phone TEXT,
    saved_name TEXT,
    push_name TEXT,
    business_name TEXT,
    lid TEXT UNIQUE,
    updated_at INTEGER
);
CREATE INDEX contacts_by_phone ON contacts (phone);

CREATE TABLE group_participants (
    group_jid TEXT NOT NULL REFERENCES chats (jid) ON DELETE CASCADE,
    jid TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    is_super_admin INTEGER NOT NULL DEFAULT 0,
    display_name TEXT,
    PRIMARY KEY (group_jid, jid)
) WITHOUT ROWID;

-- The old design's columns (id, chat_jid, sender, content, timestamp, is_from_me) keep their
-- names so its simple SQL still works. `timestamp` is UTC epoch milliseconds. `seq` is a
-- stable rowid for the FTS index.
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    chat_jid TEXT NOT NULL REFERENCES chats (jid),
    sender TEXT,
    sender_name TEXT,
    content TEXT,
    timestamp INTEGER NOT NULL,
    is_from_me INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'text',
    caption TEXT,
    mime_type TEXT,
    filename TEXT,
    file_size INTEGER,
    media_json TEXT,
    reply_to_id TEXT,
    reply_to_sender TEXT,
    mentions TEXT,
    edited INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    is_auto_reply INTEGER NOT NULL DEFAULT 0,
    is_placeholder INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    UNIQUE (chat_jid, id)
);
CREATE INDEX messages_by_chat_time ON messages (chat_jid, timestamp, seq);
CREATE INDEX messages_by_time ON messages (timestamp, seq);
CREATE INDEX messages_by_sender_time ON messages (sender, timestamp, seq);

CREATE TABLE reactions (
    chat_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    emoji TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (chat_jid, message_id, sender)
) WITHOUT ROWID;
-- Merging an @lid into a phone JID rewrites that person's reactions in every chat.
CREATE INDEX reactions_by_sender ON reactions (sender);

-- Edits and deletes can arrive before the message they change (history sync order is not
-- guaranteed). The newest of each is kept here and applied whenever the message is written.
CREATE TABLE message_mutations (
    chat_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('edit', 'delete')),
    content TEXT,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (chat_jid, message_id, kind)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, caption,
    content = 'messages', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content, caption) VALUES (new.seq, new.content, new.caption);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, caption)
    VALUES ('delete', old.seq, old.content, old.caption);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF content, caption ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, caption)
    VALUES ('delete', old.seq, old.content, old.caption);
    INSERT INTO messages_fts (rowid, content, caption) VALUES (new.seq, new.content, new.caption);
END;

-- Small bridge state that must survive restarts (history-sync progress, account JID…).
CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# The send gate's memory: every outbound attempt (sent, refused, failed). Rate limits and the
# same-text fan-out rule are computed from the `sent` rows, so they hold across bridge restarts.
# `spacing_ms` is the jittered gap drawn after a send: the next send waits until at + spacing_ms.
_V2_SEND_LOG = """
CREATE TABLE send_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    text_sha256 TEXT,
    text_length INTEGER,
    fanout_key TEXT,
    rate_limited INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'refused', 'failed')),
    reason TEXT,
    message_id TEXT,
    spacing_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX send_log_sent_by_time ON send_log (outcome, rate_limited, at);
CREATE INDEX send_log_by_fanout ON send_log (fanout_key, at) WHERE fanout_key IS NOT NULL;
"""

# Auto-reply: rules (one per chat JID, or 'all_contacts') with their running stats, the ledger
# (one row per inbound message ever considered: at most one reply each, across restarts) and one
# row per reply attempt (hourly caps are counted from it, so they hold across restarts too).
_V3_AUTOREPLY = """
CREATE TABLE autoreply_rules (
    chat TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('gemini', 'static')),
    instructions TEXT,
    static_text TEXT,
    mention_only INTEGER NOT NULL DEFAULT 0,
    until INTEGER,
    quiet_hours TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    replies INTEGER NOT NULL DEFAULT 0,
    last_reply_at INTEGER,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at INTEGER,
    skipped INTEGER NOT NULL DEFAULT 0,
    last_skip_reason TEXT
);

CREATE TABLE autoreply_replies (
    seq INTEGER PRIMARY KEY,
    chat_jid TEXT NOT NULL,
    rule TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'sent', 'failed', 'skipped')),
    claimed_at INTEGER NOT NULL,
    finished_at INTEGER,
    reply_id TEXT,
    detail TEXT,
    prompt_tokens INTEGER,
    output_tokens INTEGER,
    total_tokens INTEGER
);
CREATE INDEX autoreply_replies_by_chat ON autoreply_replies (chat_jid, claimed_at);
CREATE INDEX autoreply_replies_by_time ON autoreply_replies (claimed_at);

CREATE TABLE autoreply_ledger (
    chat_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'sent', 'failed', 'skipped')),
    reply_seq INTEGER REFERENCES autoreply_replies (seq),
    detail TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (chat_jid, message_id)
) WITHOUT ROWID;
"""

# Prefix queries (`piz*`) with a short prefix had to merge the doclists of every matching term:
# `the*` took about a second at 1M messages. Prefix indexes for 2 and 3 characters make them
# constant-time for about 8 % more file size. The index is rebuilt from `messages`.
_V4_FTS_PREFIX = """
DROP TRIGGER messages_ai;
DROP TRIGGER messages_ad;
DROP TRIGGER messages_au;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, caption,
    content = 'messages', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content, caption) VALUES (new.seq, new.content, new.caption);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, caption)
    VALUES ('delete', old.seq, old.content, old.caption);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF content, caption ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, caption)
    VALUES ('delete', old.seq, old.content, old.caption);
    INSERT INTO messages_fts (rowid, content, caption) VALUES (new.seq, new.content, new.caption);
END;
"""

# Index i holds the script that takes the schema from version i to i + 1.
MIGRATIONS: list[str] = [
    _V1,
    _V2_SEND_LOG,
    _V3_AUTOREPLY,
    _V4_FTS_PREFIX,
    _V_ISSUE_12_WIRE,
    _V_ISSUE_13_GROUP_OWNER,
    _V_ISSUE_16_HISTORY_COVERAGE,
    _V_ISSUE_17_IMPORT_SOURCE,
    _V_ISSUE_18_TRANSCRIPTS_SCHEDULE,
]
SCHEMA_VERSION = len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (trigger bodies contain semicolons)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip() and not buf.strip().startswith("--"):
        raise ValueError(f"incomplete SQL statement in migration: {buf[:80]!r}")
    return out


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: list[str] | None = None) -> int:
    """Bring the database up to the newest schema; returns the version it is at.

    `conn` must be in autocommit mode (`isolation_level=None`): each step opens its own
    transaction.
    """
    steps = MIGRATIONS if migrations is None else migrations
    version = current_version(conn)
    if version > len(steps):
        raise SchemaTooNew(
            f"This message store is at schema version {version}, but this whatsapp-mcp only "
            f"knows up to {len(steps)}. Upgrade whatsapp-mcp (README: Upgrading, from "
            "your clone or a newer bundle) or point WHATSAPP_MCP_DATA_DIR at another folder."
        )
    while version < len(steps):
        with transaction(conn):
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = current_version(conn)
            if version >= len(steps):
                break
            for statement in _statements(steps[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        version += 1
    return version
