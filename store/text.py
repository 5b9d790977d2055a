"""Text helpers for display and matching: previews, quotes, hidden characters, folding."""

from __future__ import annotations

import re
import unicodedata

from store.models import MessageKind

# Direction overrides/isolates and invisible separators can hide or reorder text a model reads
# (and carry "ASCII smuggling" payloads in tag characters or supplementary variation selectors).
# ZWJ/ZWNJ stay: emoji sequences and Persian/Indic scripts need them. Tag characters stay only
# inside the three RGI subdivision flags (England, Scotland, Wales): after any other 🏴 the phone
# shows just the flag while a model would read the payload.
_SUBDIVISION_FLAG = (
    "\U0001f3f4(?:\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067"
    "|\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074"
    "|\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073)\U000e007f"
)
_HIDDEN_RE = re.compile(
    f"({_SUBDIVISION_FLAG})"
    "|[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u061c\ufeff\u180e"
    "\ufff9-\ufffb\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef]+"
)


def strip_hidden(text: str | None) -> tuple[str | None, bool]:
    """`text` without invisible/direction-changing characters, and whether any were removed.

    Subdivision flags (🏴 England) keep their tag characters.
    """
    if not text:
        return text, False
    cleaned = _HIDDEN_RE.sub(lambda m: m.group(1) or "", text)
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
