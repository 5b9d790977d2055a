"""Supervision: the MCP server brings a dead bridge back, replaces a hung one, fails fast and
clearly while it cannot, keeps answering reads meanwhile, and leaves a bridge in a permanent
WhatsApp state alone. Real bridge processes on simulated WhatsApp, a real in-process MCP client.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from bridge.control.advice import ADVICE
from bridge.control.lockfile import AlreadyRunning, BridgeLock, holder_pid
from bridge.paths import DataPaths
from bridge.settings import Settings, load_settings
from bridge.transport.protocol import ConnectionEvent, ConnectionState
from mcp_server.app import App
from mcp_server.server import build_server
from mcp_server.supervision.supervisor import lock_is_held
from tests.harness import TOM, inprocess_bridge
from tests.helpers import eventually_async, sim_env, stop_bridge, text_of

pytestmark = pytest.mark.anyio


def _settings(data_dir: Path, **extra: str) -> Settings:
    return load_settings(
        env=sim_env(data_dir, **{"WHATSAPP_MCP_BRIDGE_START_TIMEOUT": "10", **extra})
    )


def _app(settings: Settings) -> App:
    app = App(settings)
    sup = app.supervisor
    # Fast hang detection for tests; the defaults are 10 s / 5 s / 2 misses / 5 s.
    sup.health_interval, sup.health_timeout, sup.hung_after, sup.kill_grace = 0.3, 0.5, 2, 1.0
    return app


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return _settings(data_dir)


@pytest.fixture(autouse=True)
def no_leftover_bridge(data_dir: Path) -> Iterator[None]:
    yield
    paths = DataPaths(data_dir)
    stop_bridge(paths)
    # A test that failed half-way may leave a stopped bridge behind: never leak it.
    pid = holder_pid(paths.lock)
    if pid and pid != os.getpid() and lock_is_held(paths.lock):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def server(settings: Settings, app: App) -> AsyncIterator[Client]:
    async with Client(build_server(settings, app=app), cache=None) as c:
        yield c


async def status(client: Client) -> dict[str, Any]:
    r = await client.call_tool("get_status", {})
    assert not r.is_error, r.content
    return dict(r.structured_content or {})


async def bridge_pid(client: Client, other_than: int | None = None, timeout: float = 30) -> int:
    async def new_pid() -> int | None:
        st = await status(client)
        if st["bridge_running"] and st["bridge_pid"] != other_than:
            return int(st["bridge_pid"])
        return None

    return await eventually_async(new_pid, timeout=timeout, what="a (new) bridge pid")


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def test_a_killed_bridge_is_restarted_and_the_next_send_succeeds(settings: Settings):
    app = _app(settings)
    async with server(settings, app) as client:
        first = await bridge_pid(client)
        os.kill(first, signal.SIGKILL)
        # The kill is asynchronous: the next call comes once the bridge is really dead, i.e. its
        # files (socket, lock) are closed, which for a threaded process can be a moment after
        # /proc already shows a zombie. A call racing the death itself can fail with
        # "connection lost": the honest answer for a send that may have gone out.
        paths = DataPaths(settings.data_dir)
        await eventually_async(
            lambda: not (lock_is_held(paths.lock) and holder_pid(paths.lock) == first),
            interval=0.005,
            what="the killed bridge's lock released",
        )
        started = time.monotonic()
        sent = await client.call_tool("send_message", {"to": TOM, "text": "still there?"})
        took = time.monotonic() - started
        assert not sent.is_error, text_of(sent)
        second = await bridge_pid(client)
        assert second != first and gone(first)
        assert app.supervisor.spawned == 2
        # Found out at once (a refused socket, not a timeout) and restarted within the bound.
        assert took < settings.bridge_start_timeout, took


@pytest.mark.slow
async def test_reads_work_and_sends_fail_clearly_while_the_bridge_cannot_start(data_dir: Path):
    settings = _settings(data_dir, WHATSAPP_MCP_BRIDGE_START_TIMEOUT="4")
    app = _app(settings)
    paths = DataPaths(settings.data_dir)
    blocker = BridgeLock(paths.lock)
    async with server(settings, app) as client:
        pid = await bridge_pid(client)
        # Kill it and take its lock before the supervisor's new bridge can: every bridge
        # started now finds the lock held and exits, so the bridge stays down.
        for _ in range(5):
            os.kill(pid, signal.SIGKILL)
            await eventually_async(
                lambda pid=pid: not (lock_is_held(paths.lock) and holder_pid(paths.lock) == pid),
                interval=0.001,
                what="the killed bridge's lock released",
            )
            try:
                blocker.acquire()
                break
            except AlreadyRunning:
                pid = await bridge_pid(client, other_than=pid)
        else:
            pytest.fail("could not take the lock from a restarting bridge")
        try:
            chats = await client.call_tool("list_chats", {"limit": 5})
            assert not chats.is_error and chats.structured_content
            assert chats.structured_content["items"]
            hits = await client.call_tool("search_messages", {"query": "dinner"})
            assert not hits.is_error and hits.structured_content
            assert hits.structured_content["items"]

            started = time.monotonic()
            sent = await client.call_tool("send_message", {"to": TOM, "text": "hello?"})
            took = time.monotonic() - started
            assert sent.is_error
            assert "bridge_unavailable" in text_of(sent) and "unavailable (" in text_of(sent)
            assert took < settings.bridge_start_timeout + 5, took
            st = await status(client)
            assert st["state"] == "bridge_unavailable" and st["store"]["messages"] > 0
        finally:
            blocker.release()
        # The lock is free again: the bridge comes back by itself.
        await bridge_pid(client, other_than=pid)
        sent = await client.call_tool("send_message", {"to": TOM, "text": "back"})
        assert not sent.is_error, text_of(sent)


async def test_a_crash_loop_trips_the_breaker_and_tools_fail_fast(settings: Settings):
    app = _app(settings)
    async with server(settings, app) as client:
        pid = await bridge_pid(client)
        kills = 0
        # Five spawns in a minute are allowed; the fifth death trips the breaker.
        while app.supervisor.spawned < 5:
            os.kill(pid, signal.SIGKILL)
            kills += 1
            pid = await bridge_pid(client, other_than=pid)
        os.kill(pid, signal.SIGKILL)
        await eventually_async(
            lambda: "crashed" in (app.supervisor.last_error or ""),
            interval=0.02,
            what="the crash breaker tripping",
        )
        started = time.monotonic()
        sent = await client.call_tool("send_message", {"to": TOM, "text": "x"})
        assert sent.is_error and "crashed 5 times in a minute" in text_of(sent)
        # At once, not after waiting out the start timeout (a bound a loaded machine keeps).
        assert time.monotonic() - started < settings.bridge_start_timeout / 2
        assert app.supervisor.spawned == 5
        reads = await client.call_tool("list_chats", {"limit": 1})
        assert not reads.is_error


async def test_a_hung_bridge_is_replaced(settings: Settings):
    app = _app(settings)
    async with server(settings, app) as client:
        hung = await bridge_pid(client)
        os.kill(hung, signal.SIGSTOP)  # accepts connections, answers nothing
        try:
            started = time.monotonic()
            st = await status(client)  # bounded: it does not wait on the hung bridge forever
            assert time.monotonic() - started < 10
            fresh = await bridge_pid(client, other_than=hung)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(hung, signal.SIGCONT)
        assert fresh != hung and gone(hung)
        assert app.supervisor.replaced_hung == 1
        assert st.get("bridge_pid") in (None, hung)
        sent = await client.call_tool("send_message", {"to": TOM, "text": "after the hang"})
        assert not sent.is_error, text_of(sent)


async def test_permanent_states_are_reported_and_not_restarted(data_dir: Path):
    settings = _settings(data_dir)
    # The in-process bridge holds bridge.lock as `python -m bridge` does; a spawned one would
    # exit at once.
    async with inprocess_bridge(settings) as bridge:
        app = _app(settings)
        async with server(settings, app) as client:
            await bridge_pid(client)
            transport: Any = bridge.transport
            await transport.logout()
            for state in (
                ConnectionState.logged_out,
                ConnectionState.outdated,
                ConnectionState.banned,
            ):
                if state is not ConnectionState.logged_out:
                    await transport.inject_event(ConnectionEvent(state=state, detail="test"))

                async def in_state(want: str = state.value) -> dict[str, Any] | None:
                    st = await status(client)
                    return st if st["state"] == want else None

                st = await eventually_async(in_state, interval=0.02, what=state.value)
                assert ADVICE[state] in st["advice"] and st["bridge_running"]
                # Several health-check rounds pass with the bridge in this state.
                await anyio.sleep(3 * app.supervisor.health_interval)
                assert app.supervisor.healthy
                assert app.supervisor.spawned == 0 and app.supervisor.replaced_hung == 0
            sent = await client.call_tool("send_message", {"to": TOM, "text": "hi"})
            assert sent.is_error and "not connected" in text_of(sent).lower()
