"""The bridge enforces the strictest security settings of itself and every attached server.

Each MCP server registers its settings when it attaches (POST /api/security/attach, see
bridge/server/routes_security.py), keyed by its process id: a registration lasts as long as that
process lives, so a server that exits (or is killed) stops counting without any message. The
gate asks `effective()` before each check.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from bridge.control.security import SecuritySettings, strictest

log = logging.getLogger(__name__)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's (a reused pid): not one of ours
        return False
    return True


class SecurityRegistry:
    def __init__(self, own: SecuritySettings, *, alive: Callable[[int], bool] = pid_alive) -> None:
        self.own = own
        self._alive = alive
        self._servers: dict[int, SecuritySettings] = {}
        self._lock = threading.Lock()

    def attach(self, pid: int, settings: SecuritySettings) -> None:
        with self._lock:
            self._servers[pid] = settings
        log.info("MCP server pid %d registered its security settings", pid)

    def _live(self) -> dict[int, SecuritySettings]:
        with self._lock:
            for pid in [p for p in self._servers if not self._alive(p)]:
                del self._servers[pid]
            return dict(self._servers)

    def others(self, pid: int) -> int:
        """Live registered servers other than `pid`."""
        return sum(1 for p in self._live() if p != pid)

    def effective(self) -> SecuritySettings:
        return strictest(self.own, *self._live().values())
