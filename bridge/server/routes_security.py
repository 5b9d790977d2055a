"""Control API: attached servers register their security settings (bridge/send/strictest.py).

The answer tells the server how the bridge was started and how many other servers are attached,
so the server can decide to restart the bridge or to refuse writes
(mcp_server/supervision/supervisor.py).
"""

from __future__ import annotations

import os

from bridge.control.security import AttachRequest, AttachResponse
from bridge.send.strictest import SecurityRegistry
from bridge.server.app import Route


def routes(registry: SecurityRegistry) -> list[Route]:
    async def attach(req: AttachRequest) -> AttachResponse:
        registry.attach(req.pid, req.settings)
        return AttachResponse(
            bridge=registry.own,
            effective=registry.effective(),
            others=registry.others(req.pid),
            bridge_pid=os.getpid(),
        )

    return [Route("POST", "/api/security/attach", attach, AttachRequest)]
