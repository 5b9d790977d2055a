"""Auto-reply overhead: inbound message → reply handed to the transport, across 50 chats.

Runs the real bridge daemon in this process on SimulatedTransport (store, ingest, the auto-reply
engine with its SQLite ledger, the send gate, the send log), with debounce and typing delays at 0
and a model that answers at once. Two models:

- `gemini`: the real google-genai client against a local fake Gemini HTTP server (the same one
  the tests use), so the HTTP round trip and response parsing are included;
- `static`: a rule's fixed text, no model at all (what the engine itself costs).

Latency is from handing the inbound event to the transport to the moment the bridge calls the
transport's send. First one chat alone, one message at a time (the overhead of one reply), then
load: each of 50 chats sends a message, waits for the auto-reply and sends the next, all chats at
once (throughput; latency then includes queueing behind the other 49 chats).

Usage: `python -m benchmarks.autoreply_bench [--per-chat 20] [--solo 200]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import log, median, pct
from bridge.control.autoreply import SetAutoReplyRequest
from bridge.daemon import Bridge
from bridge.ingest.writer_thread import WriterThread
from bridge.paths import DataPaths
from bridge.settings import load_settings
from bridge.transport.protocol import MessageEvent, OutboundText, SendResult
from bridge.transport.simulated.network import SimulatedTransport
from store.autoreply import RuleMode
from store.db import open_reader, open_writer
from store.models import MessageRecord
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.bridge.fake_gemini import FakeGemini

CHATS = 50


class TimedTransport(SimulatedTransport):
    """Notes when the bridge hands each reply to WhatsApp."""

    def __init__(self) -> None:
        super().__init__(seed=7, reply_delay=3600)  # peers stay silent
        self.replied: dict[str, asyncio.Queue[float]] = defaultdict(asyncio.Queue)

    async def send_text(self, message: OutboundText) -> SendResult:
        result = await super().send_text(message)
        self.replied[message.chat_jid].put_nowait(time.perf_counter())
        return result


async def run(mode: RuleMode, per_chat: int, solo: int, data_dir: Path) -> dict[str, float]:
    settings = load_settings(
        env={
            "WHATSAPP_MCP_DATA_DIR": str(data_dir),
            "WHATSAPP_MCP_SIMULATE": "1",
            # No real number can be banned in simulate mode: lift the gate's pacing, and let
            # the 50 synthetic chats (not saved contacts) receive messages.
            "WHATSAPP_MCP_SEND_POLICY": "any",
            "WHATSAPP_MCP_SEND_MIN_INTERVAL": "0",
            "WHATSAPP_MCP_SEND_PER_MINUTE": "1000000",
            "WHATSAPP_MCP_SEND_PER_HOUR": "1000000",
            "WHATSAPP_MCP_SEND_PER_DAY": "1000000",
            "WHATSAPP_MCP_AUTOREPLY_DEBOUNCE": "0",
            "WHATSAPP_MCP_AUTOREPLY_DELAY_MIN": "0",
            "WHATSAPP_MCP_AUTOREPLY_DELAY_MAX": "0",
            "WHATSAPP_MCP_AUTOREPLY_CHAT_CAP": "1000000",
            "WHATSAPP_MCP_AUTOREPLY_GLOBAL_CAP": "1000000",
        }
    )
    paths = DataPaths(settings.data_dir)
    paths.ensure()
    conn = open_writer(paths.messages_db)
    read_conn = open_reader(paths.messages_db)
    writer = WriterThread(StoreWriter(conn))
    transport = TimedTransport()
    bridge = Bridge(settings, transport, writer, StoreReader(read_conn), idle_exit=None)
    task = asyncio.create_task(bridge.run())
    try:
        while not (paths.token.exists() and bridge.reader.counts().chats >= 8):
            await asyncio.sleep(0.05)
        # The fake peers answer every reply at once, which is exactly what the loop guard stops
        # (see tests/bridge/autoreply): switched off here to measure the reply path itself.
        bridge.autoreply.loop_pairs = 0
        chats = [f"1555{7000000 + i:07d}@s.whatsapp.net" for i in range(CHATS)]
        for chat in chats:
            await bridge.autoreply.set_rule(
                SetAutoReplyRequest(
                    chat=chat,
                    enabled=True,
                    mode=mode,
                    instructions="Answer briefly.",
                    # The gate refuses one text to more than 3 chats a day: vary it per chat.
                    static_text=f"Away for now ({chat[:11]}), back soon."
                    if mode.value == "static"
                    else None,
                )
            )
        latencies: list[float] = []

        async def one_chat(chat: str, count: int, tag: str) -> None:
            for n in range(count):
                event = MessageEvent(
                    message=MessageRecord(
                        id=f"BENCH{tag}{chat[:11]}{n:06d}",
                        chat_jid=chat,
                        sender=chat,
                        content=f"message {n} from {chat[:11]}",
                        timestamp=datetime.now(UTC),
                    )
                )
                t0 = time.perf_counter()
                await transport.inject_event(event)
                t1 = await asyncio.wait_for(transport.replied[chat].get(), 30)
                latencies.append((t1 - t0) * 1000)

        # 1. Overhead of one reply with nothing else going on: one chat, one message at a time.
        await one_chat(chats[0], solo, "S")
        alone = list(latencies)
        latencies.clear()
        # 2. Load: all 50 chats at once, each waiting for its reply before writing again.
        started = time.perf_counter()
        await asyncio.gather(*(one_chat(c, per_chat, "L") for c in chats))
        elapsed = time.perf_counter() - started
        return {
            "alone_replies": len(alone),
            "alone_median_ms": round(median(alone), 2),
            "alone_p99_ms": round(pct(alone, 99), 2),
            "load_replies": len(latencies),
            "load_median_ms": round(median(latencies), 2),
            "load_p99_ms": round(pct(latencies, 99), 2),
            "load_replies_per_min": round(len(latencies) / elapsed * 60),
        }
    finally:
        bridge.request_stop()
        await task
        writer.close()
        conn.close()
        read_conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-chat", type=int, default=20, help="messages per chat (default 20)")
    parser.add_argument("--solo", type=int, default=200, help="sequential messages, one chat")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    fake = FakeGemini(answer=lambda r: f"Thanks, I'll get back to you. ({len(fake.requests)})")
    os.environ["GEMINI_API_KEY"] = "bench"
    os.environ.pop("GOOGLE_API_KEY", None)
    os.environ["GOOGLE_GEMINI_BASE_URL"] = fake.url
    results: dict[str, dict[str, float]] = {}
    try:
        for mode in (RuleMode.gemini, RuleMode.static):
            with tempfile.TemporaryDirectory(prefix="wa-ar-bench-") as tmp:
                log(f"auto-reply, {mode.value}: {CHATS} chats x {args.per_chat} messages")
                results[mode.value] = asyncio.run(
                    run(mode, args.per_chat, args.solo, Path(tmp) / "data")
                )
                log(json.dumps(results[mode.value]))
    finally:
        fake.close()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
