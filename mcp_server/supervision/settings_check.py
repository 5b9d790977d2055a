"""A server whose security settings differ from the running bridge's (issue 13).

The bridge enforces the strictest settings of every server attached to it (bridge/send/
strictest.py). On top of that, a server whose own settings differ from those the bridge was
started with restarts the bridge with its own when no other server uses it; otherwise it refuses
writes, naming the difference, and get_status reports it (`BridgeSupervisor.security_note`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Protocol

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError
from bridge.control.lifecycle import service_record
from bridge.control.lockfile import lock_is_held
from bridge.control.security import AttachRequest, SecuritySettings, attach, differences
from bridge.paths import DataPaths
from bridge.settings import Settings


class _Supervisor(Protocol):
    """What this needs of `mcp_server.supervision.supervisor.BridgeSupervisor` (which calls it)."""

    settings: Settings
    paths: DataPaths
    client: ControlClient
    security_note: str | None
    security_mismatch: str | None

    async def start_bridge(self) -> ControlClient: ...


log = logging.getLogger(__name__)


async def reconcile(sup: _Supervisor, *, restarts_left: int = 1) -> None:
    """Register this server's security settings with the bridge (it enforces the strictest
    of all attached servers). A bridge started with other settings is restarted with this
    server's when no other server uses it; otherwise writes from here are refused, naming
    the difference, until it goes away."""
    mine = SecuritySettings.from_settings(sup.settings)
    try:
        got = await attach(sup.client, AttachRequest(pid=os.getpid(), settings=mine))
    except BridgeError as exc:
        if exc.status != 404:
            raise
        sup.security_note = "The bridge is too old to report its security settings."
        return
    diff = differences(got.bridge, mine)
    sup.security_mismatch = None
    if not diff:
        return
    # A service manager owns a service's bridge: never replaced from here (issue 15).
    if got.others == 0 and restarts_left > 0 and service_record(sup.paths) is None:
        log.warning("bridge pid %d runs with other settings: restarting it", got.bridge_pid)
        sup.security_note = (
            f"The bridge (pid {got.bridge_pid}) was running with other security settings "
            f"({'; '.join(diff)}) and no other MCP server was attached, so it was restarted "
            "with this server's settings."
        )
        with contextlib.suppress(BridgeError):
            await sup.client.stop(timeout=5)
        deadline = time.monotonic() + 15
        while lock_is_held(sup.paths.lock) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await sup.start_bridge()
        await reconcile(sup, restarts_left=restarts_left - 1)
        return
    sup.security_mismatch = (
        f"settings_differ: the running bridge (pid {got.bridge_pid}) was started with other "
        f"security settings than this MCP server ({'; '.join(diff)}), and {got.others} other "
        "MCP server(s) use it, so it was not restarted. It enforces the strictest settings "
        "of all of them, and this server sends nothing until they agree: give every MCP "
        "server the same WHATSAPP_MCP_* settings and restart them (or run "
        "`whatsapp-mcp stop`)."
    )
    sup.security_note = sup.security_mismatch
    log.warning("%s", sup.security_mismatch)
