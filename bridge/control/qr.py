"""Rendering the pairing QR payload (whatsmeow's "2@…" string) as a PNG or terminal art."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import segno


def _make(payload: str) -> segno.QRCode:
    # Imported on first use: the MCP server needs a QR code only when pairing, and importing
    # segno at start-up would cost every `initialize`.
    import segno

    return segno.make_qr(payload)


def qr_png(payload: str, *, scale: int = 6) -> bytes:
    buf = io.BytesIO()
    _make(payload).save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


def qr_terminal(payload: str) -> str:
    """Compact terminal art (two QR rows per text line), dark modules drawn as blocks."""
    matrix = [list(row) for row in _make(payload).matrix]
    size = len(matrix)
    border = 2
    width = size + 2 * border
    light_row = [0] * width
    rows = [light_row] * border
    rows += [[0] * border + [int(b) for b in row] + [0] * border for row in matrix]
    rows += [light_row] * (border + 1)
    # On a dark-background terminal, "light" modules must be drawn bright.
    glyph = {(0, 0): "█", (0, 1): "▀", (1, 0): "▄", (1, 1): " "}
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=False):
        lines.append("".join(glyph[(t, b)] for t, b in zip(top, bottom, strict=True)))
    return "\n".join(lines)
