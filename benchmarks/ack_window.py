"""The message-loss window stock neonize leaves open, measured.

    .venv/bin/python benchmarks/ack_window.py

whatsmeow acknowledges a message to WhatsApp before neonize's Python callback has run, so a
crash between the ack and our SQLite commit loses it (WhatsApp does not re-deliver an acked
message). This measures our part of that window with real neonize protobufs: from the moment
the callback enters Python (neonize's `event.execute`, what Go calls) through NeonizeTransport's
handler, its asyncio queue and the bridge's writer thread, to the commit. See
tests/reliability/ack_window.py for what is and is not included.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reliability.ack_window import measure  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ack-window-") as tmp:
        r = asyncio.run(measure(Path(tmp), idle=500, burst=5000, history=20000))
    print(json.dumps(r, indent=1))
    idle, burst, chunk = r["idle"], r["burst"], r["behind_history_chunk"]
    print(
        f"\ncallback→commit window: idle p50 {idle['p50_ms']:.1f} ms, p99 {idle['p99_ms']:.1f} ms; "
        f"burst of {burst['n']}: p50 {burst['p50_ms']:.0f} ms, p99 {burst['p99_ms']:.0f} ms, "
        f"max {burst['max_ms']:.0f} ms; a live message behind a {chunk['history_messages']}-"
        f"message history chunk: {chunk['live_ms']:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
