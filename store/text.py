"""Text helpers for display and matching: previews, quotes, hidden characters, folding."""

from __future__ import annotations

import re
import unicodedata

from store.models import MessageKind

# Direction overrides/isolates and invisible separators can hide or reorder text a model reads
# (and carry "ASCII smuggling" payloads in tag characters). ZWJ/ZWNJ stay: emoji sequences and
# Persian/Indic scripts need them.
_HIDDEN_RE = re.compile(
    "[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u061c\ufeff\u180e]"
    "|(?<![\U0001f3f4\U000e0000-\U000e007f])[\U000e0000-\U000e007f]+"
)


def strip_hidden(text: str | None) -> tuple[str | None, bool]:
    """`text` without invisible/direction-changing characters, and whether any were removed.

    Tag-character runs right after the black flag are kept: they spell subdivision
    flags (🏴 England).
    """
    if not text:
        return text, False
    cleaned = _HIDDEN_RE.sub("", text)
    return cleaned, cleaned != text


def fold(text: str | None) -> str:
    """Case- and accent-insensitive form used for name matching ("José" ~ "jose")."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at `limit` characters with an ellipsis."""
    one_line = " ".join(text.split())
    if len(one_line) <= limit:
        return one_line
    return one_line[: limit - 1].rstrip() + "…"


def preview(
    kind: str,
    content: str | None,
    caption: str | None,
    *,
    deleted: bool = False,
    placeholder: bool = False,
    limit: int = 80,
) -> str:
    """A one-line summary of a message: its text, or "[image] caption" for other kinds."""
    if deleted:
        return "[deleted]"
    if placeholder and not content:
        return "[message not yet available]"
    body = content or caption or ""
    if kind != MessageKind.text.value:
        body = f"[{kind}] {body}".strip()
    return shorten(body, limit)
