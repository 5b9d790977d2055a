"""Turn free text from a person or a model into a safe FTS5 MATCH expression.

Raw FTS5 syntax fails on ordinary input (`hello "world`, `AND OR`, `foo-bar`, `don't`), so every
word becomes a quoted phrase and the phrases are ANDed. A trailing `*` on a word keeps its
meaning as a prefix search (`piz*`), the one operator people type on purpose.
"""

from __future__ import annotations

import re

from store.errors import InvalidArgument

# Longer queries are cut: a pasted essay must not turn into thousands of phrases.
MAX_TERMS = 16
MAX_TERM_CHARS = 64
_WORDISH = re.compile(r"[^\W_]", re.UNICODE)


MIN_PREFIX_CHARS = 2


def build_match(query: str) -> str:
    """A MATCH expression for `query`; InvalidArgument when it holds no searchable word."""
    terms: list[str] = []
    for chunk in query.split():
        prefix = chunk.endswith("*")
        # NUL ends a string inside SQLite's FTS5 parser ("unterminated string"): drop it.
        word = chunk.rstrip("*").replace('"', "").replace("\x00", "")[:MAX_TERM_CHARS]
        if not _WORDISH.search(word):
            continue
        if prefix and len(word) < MIN_PREFIX_CHARS:
            # The index keeps prefixes of 2 and 3 characters; `a*` would merge a large part of
            # the vocabulary on every search.
            raise InvalidArgument(
                f"Prefix search {chunk!r} is too short: put at least {MIN_PREFIX_CHARS} letters "
                "before the * (for example piz*)."
            )
        phrase = '"' + word + '"'
        terms.append(phrase + "*" if prefix else phrase)
        if len(terms) == MAX_TERMS:
            break
    if not terms:
        raise InvalidArgument(
            f"The search query {shorten_for_error(query)!r} has no letters or digits to search "
            "for: use words from the message (pizza friday, or piz* for a prefix), or "
            "list_messages(contains=...) to find emoji or punctuation."
        )
    return " ".join(terms)


def shorten_for_error(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
