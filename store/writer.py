"""The single writer of the message store (used by the bridge only).

Every fact is written idempotently: the same message, reaction, edit or receipt delivered twice
(live and again by history sync, after reconnects, retries) leaves the store as if it arrived once.
JIDs are normalised and `@lid` aliases mapped to phone-number JIDs before anything is written, so
one person is one chat.
"""

from __future__ import annotations

from store.write.base import BULK_FTS_MIN, WRITER_CACHE_KIB
from store.write.ingest import MessageIngest

__all__ = ["BULK_FTS_MIN", "StoreWriter", "WRITER_CACHE_KIB"]


class StoreWriter(MessageIngest):
    """The single writer of the message store; see the modules in store/write/."""
