"""How long a message lives only in memory: from the Go callback entering Python to our commit.

Stock neonize registers a plain whatsmeow event handler; whatsmeow acknowledges a message to
WhatsApp's server without waiting for it, so once acked, WhatsApp will not deliver it again. A
crash after the ack and before our commit loses the message. This measures the part of that
window that is ours: real neonize protobufs enter neonize's own dispatch
(`client.event.execute`, what the Go callback calls) on a thread standing in for Go's, go through
`NeonizeTransport`'s handler (conversion, `call_soon_threadsafe`), its asyncio queue, and the
bridge's writer thread (`apply_event` on a real `StoreWriter`, as `Bridge._handle` does) until
the SQLite transaction commits.

Not included (not measurable without WhatsApp): the time an event waits in neonize's Go channel
(100 slots) before the callback, which is zero while Python keeps up and grows with a backlog.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bridge.ingest.events import apply_event
from bridge.ingest.writer_thread import WriterThread
from bridge.transport.neonize.client import NeonizeTransport
from bridge.transport.protocol import HistoryEvent, MessageEvent
from store.db import open_writer
from store.writer import StoreWriter
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.neonize_factory import H


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": _pct(ms, 50),
        "p99_ms": _pct(ms, 99),
        "max_ms": max(ms),
    }


async def measure(
    workdir: Path, *, idle: int = 200, burst: int = 1000, history: int = 5000
) -> dict[str, Any]:
    t = NeonizeTransport(workdir / "session" / "wa.db")
    t._prepare()  # pyright: ignore[reportPrivateUsage]  # client + handlers, no network
    client = t._client  # pyright: ignore[reportPrivateUsage]
    conn = open_writer(workdir / "messages.db")
    writer = StoreWriter(conn)
    wt = WriterThread(writer)
    committed: dict[str, float] = {}
    dispatched: dict[str, float] = {}
    arrived = asyncio.Event()

    async def consume() -> None:
        async for ev in t.events():
            await wt.run(apply_event, writer, ev)  # exactly Bridge._handle's write
            now = time.perf_counter()
            if isinstance(ev, MessageEvent):
                committed[ev.message.id] = now
            elif isinstance(ev, HistoryEvent):
                for m in ev.batch.messages:
                    committed[m.id] = now
            arrived.set()

    async def wait_for(ids: list[str]) -> None:
        deadline = time.monotonic() + 120
        while True:
            arrived.clear()  # before the check, so a commit in between is not missed
            if all(i in committed for i in ids):
                return
            await asyncio.wait_for(arrived.wait(), max(0.01, deadline - time.monotonic()))

    def go_thread(events: list[tuple[str, Any]], gap: float) -> None:
        for mid, ev in events:
            dispatched[mid] = time.perf_counter()
            f.dispatch(client, ev)
            if gap:
                time.sleep(gap)

    def live(prefix: str, n: int) -> list[tuple[str, Any]]:
        return [
            (f"{prefix}{i:06d}", f.message_ev(f.text(f"message {i}"), msg_id=f"{prefix}{i:06d}"))
            for i in range(n)
        ]

    def window(ids: list[str]) -> list[float]:
        return [(committed[i] - dispatched[i]) * 1000 for i in ids]

    task = asyncio.create_task(consume())
    try:
        out: dict[str, Any] = {}
        # One message at a time, as a quiet chat delivers them.
        evs = live("3EB0IDLE", idle)
        await asyncio.to_thread(go_thread, evs, 0.01)
        await wait_for([m for m, _ in evs])
        out["idle"] = _summary(window([m for m, _ in evs]))

        # A burst (a group waking up, reconnect catch-up): the queue backs up.
        evs = live("3EB0BURST", burst)
        await asyncio.to_thread(go_thread, evs, 0.0)
        await wait_for([m for m, _ in evs])
        out["burst"] = _summary(window([m for m, _ in evs]))

        # A live message right behind a big history-sync chunk: it waits for the chunk's commit.
        remote = f"{f.ALICE}@s.whatsapp.net"
        chunk = f.history(
            [
                H.Conversation(
                    ID=remote,
                    messages=[
                        f.web_message(
                            f"3EB0HIST{i:06d}", f.text(f"old {i}"), 1_600_000_000 + i, remote=remote
                        )
                        for i in range(history)
                    ],
                )
            ]
        )
        behind = live("3EB0BEHIND", 1)

        def chunk_then_live() -> None:
            dispatched["chunk"] = time.perf_counter()
            f.dispatch(client, chunk)
            go_thread(behind, 0.0)

        await asyncio.to_thread(chunk_then_live)
        await wait_for([behind[0][0], f"3EB0HIST{history - 1:06d}"])
        out["behind_history_chunk"] = {
            "history_messages": history,
            "live_ms": window([behind[0][0]])[0],
            "chunk_ms": (committed[f"3EB0HIST{history - 1:06d}"] - dispatched["chunk"]) * 1000,
        }
        return out
    finally:
        task.cancel()
        await t.stop()
        wt.close()
        conn.close()
