"""The singleton lock: one bridge per data directory, held for the bridge's whole life.

An OS lock (not a PID file) so it is released by the kernel however the process dies. It lives
in the contract package because the MCP server and the CLI ask who holds it, and an offline
import takes it so that no bridge starts writing meanwhile.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


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


class AlreadyRunning(Exception):
    """Another bridge holds the lock for this data directory."""


class BridgeLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the lock's life
        os.chmod(self.path, 0o600)
        try:
            if os.name == "nt":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fh.close()
            raise AlreadyRunning(f"another bridge holds {self.path}") from exc
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
