"""The control API's core: health, status, plain text sends, stop, and (simulate mode only)
injecting an inbound message."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from bridge.control.models import (
    BridgeStatus,
    Health,
    InboundRequest,
    InboundResponse,
    SendResponse,
    SendTextRequest,
    StopResponse,
)
from bridge.server.app import Route
from bridge.server.errors import HttpError
from store import sync_state

if TYPE_CHECKING:
    from bridge.daemon import Bridge


def routes(bridge: Bridge) -> list[Route]:
    core = Core(bridge)
    out = [
        Route("GET", "/health", core.health),
        Route("GET", "/api/status", core.status),
        Route("POST", "/api/send", core.send, SendTextRequest),
        Route("POST", "/api/stop", core.stop),
    ]
    if bridge.settings.simulate:
        out.append(Route("POST", "/api/simulate/inbound", core.inbound, InboundRequest))
    return out


class Core:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def health(self, _: object) -> Health:
        self.bridge.touch()
        return Health(
            pid=os.getpid(),
            simulate=self.bridge.settings.simulate,
            security=self.bridge.security.effective(),
        )

    async def status(self, _: object) -> BridgeStatus:
        status = self.bridge.status()
        raw = await self.bridge.writer.run(self.bridge.writer.writer.get_kv, sync_state.KV_KEY)
        state = sync_state.parse(raw)
        if state is not None:
            status.history_sync_progress = state.progress
            status.history_sync = state
        return status

    async def send(self, req: SendTextRequest) -> SendResponse:
        self.bridge.touch()
        # The send log's origin comes from the door used, never from what a caller claims.
        return await self.bridge.sender.send_text(req.model_copy(update={"origin": "tool"}))

    async def stop(self, _: object) -> StopResponse:
        asyncio.get_running_loop().call_later(0.05, self.bridge.request_stop)
        return StopResponse()

    async def inbound(self, req: InboundRequest) -> InboundResponse:
        inject = getattr(self.bridge.transport, "inject_inbound", None)
        if inject is None:  # pragma: no cover - route exists only in simulate mode
            raise HttpError(404, "not_found", "Injection exists only in simulate mode.")
        record = await inject(
            req.sender,
            req.text,
            req.chat,
            push_name=req.push_name,
            from_me=req.from_me,
            message_id=req.message_id,
        )
        chat = await self.bridge.writer.run(self.bridge.writer.writer.resolve_jid, record.chat_jid)
        await self.bridge.wait_ingested(chat, record.id)
        return InboundResponse(
            id=record.id, chat_jid=chat, sender=record.sender or "", timestamp=record.timestamp
        )
