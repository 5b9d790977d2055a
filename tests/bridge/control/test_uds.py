"""The control socket's transport (bridge/control/uds.py), against a real Unix socket server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpcore2
import httpx2
import pytest

from bridge.control.uds import unix_transport

pytestmark = pytest.mark.anyio

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@contextlib.asynccontextmanager
async def event_stream_server(path: Path) -> AsyncIterator[asyncio.Queue[asyncio.StreamWriter]]:
    """A server that answers any request with the head of an endless chunked stream, and hands
    each connection's writer to the test, which then decides when the next bytes go out."""
    writers: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()
    opened: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened.append(writer)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(HEAD + chunk(b"data: first\n\n"))
        await writer.drain()
        await writers.put(writer)

    server = await asyncio.start_unix_server(serve, path)
    try:
        yield writers
    finally:
        for writer in opened:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_read_cancelled_in_the_turn_the_bridge_sends_leaves_no_loop_error(
    tmp_path: Path,
) -> None:
    # The shape of a server shutting down while the bridge writes an event: the stream's read
    # is cancelled in the same loop turn as its bytes arrive. On anyio's raw Unix stream the
    # queued reader callback then sets the cancelled future's result (InvalidStateError).
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    path = tmp_path / "bridge.sock"
    try:
        async with (
            event_stream_server(path) as writers,
            httpx2.AsyncClient(transport=unix_transport(str(path)), base_url="http://b") as client,
            client.stream("GET", "/api/events") as answer,
        ):
            chunks = answer.aiter_raw()
            assert await anext(chunks) == b"data: first\n\n"
            server_side = await writers.get()
            read = asyncio.create_task(anext(chunks))
            # Loop turns, not time: a fixed number of turns parks the read on the socket
            # whatever the machine's load (nothing else runs on this loop).
            for _ in range(50):
                await asyncio.sleep(0)
            assert not read.done()
            server_side.write(chunk(b"data: second\n\n"))  # in the socket before the next select
            loop.call_soon(read.cancel)  # runs in that same turn, ahead of the read callback
            with pytest.raises(asyncio.CancelledError):
                await read
            for _ in range(5):  # let any queued callback run
                await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert errors == []


async def test_a_missing_socket_is_a_connect_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.sock"
    async with httpx2.AsyncClient(transport=unix_transport(str(path)), base_url="http://b") as c:
        with pytest.raises(httpx2.ConnectError):
            await c.get("/health")


async def test_a_bridge_that_sends_nothing_is_a_read_timeout(tmp_path: Path) -> None:
    path = tmp_path / "silent.sock"

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers; returns when the client goes
        writer.close()

    server = await asyncio.start_unix_server(silent, path)
    try:
        transport = unix_transport(str(path))
        async with httpx2.AsyncClient(transport=transport, base_url="http://b") as client:
            with pytest.raises(httpx2.ReadTimeout):
                await client.get("/health", timeout=httpx2.Timeout(5.0, read=0.2))
    finally:
        server.close()
        await server.wait_closed()


def test_the_backend_reaches_unix_sockets_only() -> None:
    from bridge.control.uds import UnixSocketBackend

    async def dial() -> None:
        await UnixSocketBackend().connect_tcp("127.0.0.1", 80)

    with pytest.raises(httpcore2.ConnectError):
        asyncio.run(dial())
