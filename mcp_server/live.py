"""The bridge's event stream, fanned out inside one MCP server process.

The supervisor already holds the bridge's event stream open (that is what "attached" means);
it hands every event to `LiveHub.publish`. Tools that wait (`wait_for_messages`,
`sync_history`) wait on the hub instead of polling SQLite, and push services (Claude channel
notifications, `resources/updated`) subscribe to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the wire models are not needed to answer `initialize` (cold start)
    from bridge.control.models import BridgeEvent

log = logging.getLogger(__name__)

Listener = Callable[["BridgeEvent"], None]


class LiveHub:
    def __init__(self) -> None:
        # Bumped on every event: a waiter remembers the version it last looked at, so an event
        # that lands between its store query and its wait is never missed.
        self.version = 0
        self._changed = asyncio.Event()
        self._listeners: list[Listener] = []

    def publish(self, event: BridgeEvent) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # one broken listener must not stop the stream for the others
                log.exception("live listener failed on a %s event", event.type)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    async def wait_newer(self, version: int, timeout: float) -> bool:
        """Wait until some event came after `version`; False when `timeout` passed first."""
        if self.version > version:
            return True
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), max(0.0, timeout))
        except TimeoutError:
            return self.version > version
        return True
