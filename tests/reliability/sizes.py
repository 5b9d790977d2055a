"""How hard the reliability tests push. The suite runs them small; `RELIABILITY_SCALE=50` (or a
benchmark script) runs the same code at full size."""

from __future__ import annotations

import os

SCALE = float(os.environ.get("RELIABILITY_SCALE", "1"))


def scaled(n: int) -> int:
    return max(1, int(n * SCALE))
