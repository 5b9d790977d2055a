"""A NeonizeTransport in this process, as if connected, and events fed through neonize's real
dispatch into a route rig's store (tests/harness.py): for the tests that check what our calls
hand to the Go FFI edge."""

from __future__ import annotations

from pathlib import Path

import anyio

from bridge.ingest.events import apply_event
from bridge.transport.neonize.client import NeonizeTransport
from bridge.transport.protocol import ConnectionState, MessageEvent
from store.models import MessageRecord
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.neonize_factory import N
from tests.harness import Rig


def connected_neonize(tmp_path: Path, account: str | None = None) -> NeonizeTransport:
    """The real client and handlers, no network, in the state a ConnectedEv leaves."""
    t = NeonizeTransport(tmp_path / "session" / "wa.db")
    t._prepare()
    t._state = ConnectionState.connected
    if account is not None:
        t._account_jid = account
    return t


async def ingest_dispatched(t: NeonizeTransport, rig: Rig, ev: N.Message) -> MessageRecord:
    """Dispatch `ev` as the Go callback does and store the event our transport makes of it."""
    f.dispatch(t._client, ev)
    with anyio.fail_after(5):
        async for event in t.events():
            assert isinstance(event, MessageEvent)
            await rig.writer.run(apply_event, rig.writer.writer, event)
            return event.message
    raise AssertionError("the dispatched message made no event")
