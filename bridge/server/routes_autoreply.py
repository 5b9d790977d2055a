"""Control API routes for auto-reply rules (the MCP server reads stats from the store itself)."""

from __future__ import annotations

from bridge.autoreply.engine import AutoReplyEngine
from bridge.control.autoreply import AutoReplyState, SetAutoReplyRequest
from bridge.server.app import Route


def routes(engine: AutoReplyEngine) -> list[Route]:
    async def get_rules(_: object) -> AutoReplyState:
        return await engine.refresh_state()

    async def set_rule(req: SetAutoReplyRequest) -> AutoReplyState:
        return await engine.set_rule(req)

    return [
        Route("GET", "/api/autoreply", get_rules),
        Route("POST", "/api/autoreply/rules", set_rule, SetAutoReplyRequest),
    ]
