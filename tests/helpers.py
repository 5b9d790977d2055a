"""Helpers for tests that run real bridge and server processes."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
from mcp import Client
from mcp.types import CallToolResult

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError
from bridge.paths import DataPaths
from store.db import open_reader
from store.sync_state import SIMULATED_SEED, read_sync_state

T = TypeVar("T")


def eventually(
    check: Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    ignoring: tuple[type[BaseException], ...] = (),
    what: str = "the condition",
) -> T:
    """Wait until `check()` returns something truthy and return it; exceptions in `ignoring`
    count as "not yet". The one place tests poll: fails with the last value or error seen."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except ignoring as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s (last: {last!r})")
        time.sleep(interval)


async def eventually_async(
    check: Callable[[], Awaitable[T]] | Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    ignoring: tuple[type[BaseException], ...] = (),
    what: str = "the condition",
) -> T:
    """`eventually` on the running event loop; `check` may be sync or async."""
    last: object = None
    try:
        with anyio.fail_after(timeout):
            while True:
                try:
                    value = check()
                    if inspect.isawaitable(value):
                        value = await value
                    if value:
                        return value
                    last = value
                except ignoring as exc:
                    last = exc
                await anyio.sleep(interval)
    except TimeoutError:
        raise AssertionError(f"{what} did not hold within {timeout} s (last: {last!r})") from None


def sim_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a server or bridge child on simulated WhatsApp."""
    env = {
        **os.environ,
        "WHATSAPP_MCP_DATA_DIR": str(data_dir),
        "WHATSAPP_MCP_SIMULATE": "1",
        "WHATSAPP_MCP_SIMULATE_REPLY_DELAY": "0.2",
        "WHATSAPP_MCP_BRIDGE_IDLE_EXIT": "3",
        # Simulate mode lets tests loosen the send limits (no real number can be banned); the
        # recipient policy stays at its product default, `contacts`.
        "WHATSAPP_MCP_SEND_MIN_INTERVAL": "0",
        "WHATSAPP_MCP_SEND_PER_MINUTE": "1000",
        "WHATSAPP_MCP_SEND_PER_HOUR": "10000",
        "WHATSAPP_MCP_SEND_PER_DAY": "100000",
    }
    env.update(extra)
    return env


def wait_healthy(paths: DataPaths, timeout: float = 20.0, tcp: bool = False) -> None:
    client = ControlClient(paths, tcp=tcp)
    try:
        eventually(
            lambda: asyncio.run(client.health(timeout=1.0)),
            timeout=timeout,
            ignoring=(BridgeError,),
            what="the bridge's health",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; log: {read_log(paths)}") from None


def read_log(paths: DataPaths) -> str:
    try:
        return paths.log.read_text(encoding="utf-8")[-3000:]
    except OSError:
        return "(no log)"


def stop_bridge(paths: DataPaths, tcp: bool = False) -> None:
    try:
        asyncio.run(ControlClient(paths, tcp=tcp).stop(timeout=5))
    except BridgeError:
        return
    eventually(lambda: not paths.token.exists(), what="the bridge removing its token")


@contextlib.contextmanager
def spawned_bridge(paths: DataPaths, *, tcp: bool = False, **env: str) -> Iterator[DataPaths]:
    """`python -m bridge` on simulated WhatsApp, as a server spawns it: healthy on entry,
    stopped through its control API on exit (killed if it will not go)."""
    paths.ensure()
    if tcp:
        env = {"WHATSAPP_MCP_CONTROL_TRANSPORT": "tcp", **env}
    with open(paths.log, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bridge", "--idle-exit", "60"],
            env=sim_env(paths.root, **env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    try:
        wait_healthy(paths, tcp=tcp)
        yield paths
    finally:
        stop_bridge(paths, tcp=tcp)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def replacement_bridge(client: Client, old_pid: int) -> dict[str, Any] | None:
    """get_status once a bridge other than `old_pid` runs and is connected, else None (for
    waiting after the old bridge was killed or stopped)."""
    result = await client.call_tool("get_status", {})
    if result.is_error or result.structured_content is None:
        return None
    status = dict(result.structured_content)
    ok = status.get("bridge_pid") not in (None, old_pid) and status.get("state") == "connected"
    return status if ok else None


def text_of(result: CallToolResult) -> str:
    """The text blocks of a tool result, joined (where error messages live)."""
    return " ".join(getattr(c, "text", "") for c in result.content)


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    """Call a tool that must succeed; its structured result."""
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def error_of(client: Client, tool: str, **args: Any) -> str:
    """Call a tool that must fail; the error text the model would see."""
    result = await client.call_tool(tool, args)
    assert result.is_error, result.structured_content
    return text_of(result)


def wait_seeded(paths: DataPaths, timeout: float = 30.0) -> None:
    """Until the simulated world is all in the store: a healthy bridge may still be writing it
    (the network closes it with a SIMULATED_SEED history chunk)."""
    deadline = time.monotonic() + timeout
    while True:
        state = None
        if paths.messages_db.exists():
            conn = open_reader(paths.messages_db)
            try:
                state = read_sync_state(conn)
            finally:
                conn.close()
        if state is not None and SIMULATED_SEED in state.types:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"the simulated world was not seeded; log: {read_log(paths)}")
        time.sleep(0.05)


def seeded_contact(paths: DataPaths) -> str:
    """The first saved contact of the simulated world, read from the store file."""
    wait_seeded(paths)
    conn = open_reader(paths.messages_db)
    try:
        row = conn.execute(
            "SELECT jid FROM contacts WHERE saved_name IS NOT NULL ORDER BY jid LIMIT 1"
        ).fetchone()
        return str(row[0])
    finally:
        conn.close()
