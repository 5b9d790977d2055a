"""Read-only queries over the message store (used by the MCP servers).

Every listing uses keyset pagination on an indexed sort key (never OFFSET), and every page is
assembled with a fixed number of queries: names, reactions and quoted messages are fetched for the
whole page at once.
"""

from __future__ import annotations

from store.read.base import MAX_LIMIT, QUOTE_CHARS, RANK_CAP, _guard_public_methods
from store.read.contacts import ContactQueries

__all__ = ["MAX_LIMIT", "QUOTE_CHARS", "RANK_CAP", "StoreReader"]


@_guard_public_methods
class StoreReader(ContactQueries):
    """Read-only queries over the message store; see the modules in store/read/."""
