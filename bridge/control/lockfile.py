"""Reading the bridge's singleton lock from outside: who holds it, and whether anyone does.

Here (not in `bridge.lock`, which takes the lock) because the MCP server and the CLI ask these
questions and may import only the contract package.
"""

from __future__ import annotations

import os
from pathlib import Path


def holder_pid(path: Path) -> int | None:
    """The PID the lock holder wrote into the lock file, if any."""
    try:
        text = path.read_text(encoding="utf-8").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def lock_is_held(path: Path) -> bool:
    """Whether some process holds the bridge lock (probed with a shared lock, released at once)."""
    if os.name == "nt":  # pragma: no cover - msvcrt locks cannot be probed without taking them
        return True
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases the probe lock if we got it
    return False
