"""The singleton lock: one bridge per data directory, held for the bridge's whole life.

An OS lock (not a PID file) so it is released by the kernel however the process dies.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from bridge.control.lockfile import holder_pid as holder_pid


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
