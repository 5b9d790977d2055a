"""`bridge.log`: size-capped and rotated, and the target of fd 1 and 2 as well.

neonize's Go code and a Python crash write to the process's file descriptors, not to `logging`.
The handler points fds 1 and 2 at the current log file after every rollover, so those lines land
in the file a person reads (and rotate with it) instead of a renamed `bridge.log.1` forever.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3


class RotatingBridgeLog(logging.handlers.RotatingFileHandler):
    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._redirect()

    def _open(self):  # type: ignore[no-untyped-def]  (typeshed: TextIOWrapper)
        # 0600 whatever the umask of whoever started us.
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)
        return os.fdopen(fd, "a", encoding="utf-8")

    def doRollover(self) -> None:
        super().doRollover()
        self._redirect()

    def _redirect(self) -> None:
        if self.stream is None:
            return
        self.stream.flush()
        for fd in (1, 2):
            os.dup2(self.stream.fileno(), fd)


def log_to_file(path: Path, level: str, fmt: str) -> RotatingBridgeLog:
    handler = RotatingBridgeLog(path)
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    return handler
