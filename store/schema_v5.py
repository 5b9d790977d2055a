"""Migrations 5 to 9: the scripts that came with the second release (issues 12 to 18).

Kept apart from store/schema.py so each file stays readable; `schema.MIGRATIONS` orders them.
Like every shipped migration, none of these is ever edited: a change is a new migration.
"""

from __future__ import annotations

# Issue 12: what the protocol needs back when we answer a message. `sender_wire` is the sender
# exactly as WhatsApp addressed it (an @lid in LID-addressed groups), which read receipts,
# reaction keys and quotes must carry, beside the phone JID in `sender`; NULL means the same.
# `ephemeral_expiration` is a disappearing-messages chat's timer in seconds, which our sends
# must carry so they disappear too.
_V_ISSUE_12_WIRE = """
ALTER TABLE messages ADD COLUMN sender_wire TEXT;
ALTER TABLE chats ADD COLUMN ephemeral_expiration INTEGER;
"""

# issue 16: what the phone said about each chat's history (whatsmeow's Conversation
# endOfHistoryTransfer/Type). One row per chat the phone has spoken about; no row = not told.
# `end_type`: 'complete' (the start of the chat is here), 'more_on_phone' (older messages stay
# on the phone), 'no_access' (older messages exist but cannot be synced).
_V_ISSUE_16_HISTORY_COVERAGE = """
CREATE TABLE chat_history (
    chat_jid TEXT PRIMARY KEY,
    end_type TEXT NOT NULL CHECK (end_type IN ('complete', 'more_on_phone', 'no_access')),
    updated_at INTEGER NOT NULL
);
"""

# Issue 17: messages imported from a phone's "Export chat" file carry source = 'import' (synced
# ones keep NULL). An export has no message ids, so a synced copy of an imported message arrives
# later under its real id: the trigger then removes one matching imported copy (same chat,
# direction, sender when known, text, time within a minute), so sync after import leaves one
# row. The partial index keeps that lookup free for stores with no imports.
_V_ISSUE_17_IMPORT_SOURCE = """
ALTER TABLE messages ADD COLUMN source TEXT;
CREATE INDEX messages_imported ON messages (chat_jid, timestamp) WHERE source = 'import';
CREATE TRIGGER messages_import_dedupe AFTER INSERT ON messages WHEN new.source IS NULL BEGIN
    DELETE FROM messages WHERE seq = (
        SELECT i.seq FROM messages i
        WHERE i.chat_jid = new.chat_jid AND i.source = 'import'
          AND i.timestamp > new.timestamp - 60000 AND i.timestamp < new.timestamp + 60000
          AND i.is_from_me = new.is_from_me
          AND (i.sender IS NULL OR i.sender IS new.sender OR new.is_from_me)
          AND (CASE WHEN i.kind = 'text' THEN i.content IS new.content
                    ELSE new.kind <> 'text' END)
        ORDER BY i.seq LIMIT 1);
END;
"""

# Issue 13: who created each group (WhatsApp's group owner): creating a group is one of the
# ways the user shows consent to sending there (bridge/send/policy.py). The send log by message
# id tells the user's own messages (typed on the phone) from the ones we sent.
_V_ISSUE_13_GROUP_OWNER = """
ALTER TABLE chats ADD COLUMN owner_jid TEXT;
CREATE INDEX send_log_by_message ON send_log (message_id) WHERE message_id IS NOT NULL;
"""


# issue 18: voice-note transcripts and scheduled sends.
# A transcript is other people's words: it lives in `messages.transcript` so the FTS index (now
# with a third column) finds spoken words; its metadata (state, language, error, tokens) sits in
# `transcripts`, keyed by the message's stable seq, which survives LID merges. A failed row is
# the cache of an error (no key, too large, expired media) until the next explicit try.
# `scheduled_messages` is fired by the bridge; its state only moves forward from `pending`,
# through `sending` (claimed before the send: a crash then leaves it unsent, never sent twice).
_V_ISSUE_18_TRANSCRIPTS_SCHEDULE = """
ALTER TABLE messages ADD COLUMN transcript TEXT;
CREATE TABLE transcripts (
    seq INTEGER PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('done', 'failed')),
    language TEXT,
    error_code TEXT,
    error TEXT,
    model TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER,
    output_tokens INTEGER,
    total_tokens INTEGER,
    at INTEGER NOT NULL
);
DROP TRIGGER messages_ai;
DROP TRIGGER messages_ad;
DROP TRIGGER messages_au;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, caption, transcript,
    content = 'messages', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content, caption, transcript)
    VALUES (new.seq, new.content, new.caption, new.transcript);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, caption, transcript)
    VALUES ('delete', old.seq, old.content, old.caption, old.transcript);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF content, caption, transcript ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, caption, transcript)
    VALUES ('delete', old.seq, old.content, old.caption, old.transcript);
    INSERT INTO messages_fts (rowid, content, caption, transcript)
    VALUES (new.seq, new.content, new.caption, new.transcript);
END;

CREATE TABLE scheduled_messages (
    id INTEGER PRIMARY KEY,
    chat_jid TEXT NOT NULL,
    text TEXT NOT NULL,
    reply_to TEXT,
    at INTEGER NOT NULL,
    zone TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'refused', 'failed', 'missed',
                         'cancelled')),
    detail TEXT,
    message_id TEXT,
    fired_at INTEGER
);
CREATE INDEX scheduled_pending_by_time ON scheduled_messages (at) WHERE state = 'pending';
"""
