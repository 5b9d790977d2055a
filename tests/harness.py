"""An in-process bridge (the real `Bridge` daemon on SimulatedTransport, control socket and all)
that tests reach both through a real MCP client and directly, to inject exact events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from bridge.control.lockfile import BridgeLock
from bridge.daemon import Bridge
from bridge.ingest.writer_thread import WriterThread
from bridge.main import make_transport
from bridge.paths import DataPaths
from bridge.server.routes_messaging import Messaging
from bridge.settings import Settings, load_settings
from bridge.transport.protocol import OutboundText, Transport
from bridge.transport.simulated.network import SimulatedTransport
from store.autoreply import AutoReplyReader, AutoReplyRule, LedgerEntry
from store.db import open_reader, open_writer
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.helpers import eventually_async, sim_env

TOM = "447700900418@s.whatsapp.net"  # saved contact "Tom Becker (Landlord)"
MARIA = "15550100143@s.whatsapp.net"  # saved contact "Maria García"
PRIYA = "447700900265@s.whatsapp.net"  # saved contact
KENJI = "15550100129@s.whatsapp.net"  # saved contact
FAMILY = "120363041234567890@g.us"
ME = "15550000000@s.whatsapp.net"


def autoreply_settings(data_dir: Path, **extra: str) -> Settings:
    env = {
        # Peers answer our replies only in the loop test: keep them quiet otherwise.
        "WHATSAPP_MCP_SIMULATE_REPLY_DELAY": "600",
        "WHATSAPP_MCP_AUTOREPLY_DEBOUNCE": "0.3",
        "WHATSAPP_MCP_AUTOREPLY_DELAY_MIN": "0",
        "WHATSAPP_MCP_AUTOREPLY_DELAY_MAX": "0.01",
        "WHATSAPP_MCP_AUTOREPLY_RETRY_DELAY": "0.05",
        "WHATSAPP_MCP_AUTOREPLY_CHAT_CAP": "8",
        **extra,
    }
    return load_settings(env=sim_env(data_dir, **env))


async def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Wait for a real condition (sync or async check); returns its first truthy value."""

    async def once() -> Any:
        value = check()
        return (await value) if asyncio.iscoroutine(value) else value

    return await eventually_async(once, timeout=timeout, interval=0.02, what=what or "condition")


@contextlib.asynccontextmanager
async def inprocess_bridge(settings: Settings) -> AsyncIterator[Bridge]:
    paths = DataPaths(settings.data_dir)
    paths.ensure()
    # Held as `python -m bridge` holds it: clients trust the socket only while the lock is held.
    lock = BridgeLock(paths.lock)
    lock.acquire()
    conn = open_writer(paths.messages_db)
    read_conn = open_reader(paths.messages_db)
    writer = WriterThread(StoreWriter(conn))
    bridge = Bridge(
        settings, make_transport(settings), writer, StoreReader(read_conn), idle_exit=None
    )
    task = asyncio.create_task(bridge.run())
    try:
        await wait_until(
            lambda: paths.token.exists() and bridge.reader.counts().chats >= 8, what="seed"
        )
        yield bridge
    finally:
        bridge.request_stop()
        with anyio.fail_after(20):
            await task
        writer.close()
        conn.close()
        read_conn.close()
        lock.release()


@dataclass
class Rig:
    bridge: Bridge
    messaging: Messaging
    writer: WriterThread
    reader: StoreReader
    paths: DataPaths


@contextlib.asynccontextmanager
async def route_rig(data_dir: Path, transport: Transport, **env: str) -> AsyncIterator[Rig]:
    """A `Bridge` around `transport` with a real store, not run: tests call its routes
    (`Messaging`) directly, on a transport whose edge they control."""
    settings = load_settings(env={"WHATSAPP_MCP_DATA_DIR": str(data_dir), **env})
    paths = DataPaths(data_dir)
    paths.ensure()
    conn = open_writer(paths.messages_db)
    read_conn = open_reader(paths.messages_db)
    writer = WriterThread(StoreWriter(conn))
    reader = StoreReader(read_conn)
    bridge = Bridge(settings, transport, writer, reader, idle_exit=None)
    try:
        yield Rig(bridge, Messaging(bridge), writer, reader, paths)
    finally:
        writer.close()
        conn.close()
        read_conn.close()


def sim(bridge: Bridge) -> SimulatedTransport:
    assert isinstance(bridge.transport, SimulatedTransport)
    return bridge.transport


def texts_to(bridge: Bridge, chat: str | None = None) -> list[OutboundText]:
    return [
        s
        for s in sim(bridge).sent
        if isinstance(s, OutboundText) and (chat is None or s.chat_jid == chat)
    ]


async def settled(bridge: Bridge, seen_before: int, deliveries: int = 1) -> None:
    """Wait until the engine has looked at `deliveries` more inbound messages and is idle."""
    engine = bridge.autoreply
    await wait_until(lambda: engine.considered >= seen_before + deliveries and engine.idle())


def rule_of(overview: dict[str, Any], chat: str) -> dict[str, Any]:
    return next(r for r in overview["rules"] if r["chat"] == chat)


class _Ledger:
    """Reads the bridge's auto-reply tables the way an MCP server does: read-only."""

    def __init__(self, bridge: Bridge) -> None:
        self.path = DataPaths(bridge.settings.data_dir).messages_db

    def ledger(self, chat: str | None = None) -> list[LedgerEntry]:
        reader = AutoReplyReader(open_reader(self.path))
        try:
            return reader.ledger(chat)
        finally:
            reader.close()

    def rule(self, chat: str) -> AutoReplyRule | None:
        reader = AutoReplyReader(open_reader(self.path))
        try:
            return reader.rule(chat)
        finally:
            reader.close()


def store_of(bridge: Bridge) -> _Ledger:
    return _Ledger(bridge)
