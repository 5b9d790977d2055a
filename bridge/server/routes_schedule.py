"""Control API for scheduled sends: add and cancel. Listing reads the store directly."""

from __future__ import annotations

from bridge.control.schedule import CancelScheduledRequest, ScheduleRequest
from bridge.send.scheduler import Scheduler
from bridge.server.app import Route
from store.scheduled import ScheduledMessage


def routes(scheduler: Scheduler) -> list[Route]:
    async def add(req: ScheduleRequest) -> ScheduledMessage:
        return await scheduler.add(req)

    async def cancel(req: CancelScheduledRequest) -> ScheduledMessage:
        return await scheduler.cancel(req.id)

    return [
        Route("POST", "/api/schedule", add, ScheduleRequest),
        Route("POST", "/api/schedule/cancel", cancel, CancelScheduledRequest),
    ]
