"""The control socket's HTTP transport: httpx2 over asyncio's own Unix streams.

Why not httpx2's `uds=` as it comes: its network backend reads through anyio's raw-socket
stream, which waits on `loop.add_reader(sock, future.set_result)` and removes that reader only
in a later callback. When the read is cancelled in the same loop turn as data arrives (a
server shutting down while the bridge sends an event on the stream), the queued reader callback
then sets the result of the cancelled future and the loop reports `InvalidStateError` (anyio
4.16; its aclose-side twin was agronholm/anyio#1267). asyncio's `StreamReader` checks its
waiter before waking it, so the same cancellation is quiet here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2


class _UnixStream(httpcore2.AsyncNetworkStream):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore2.ReadTimeout("the bridge sent nothing in time") from exc
        except OSError as exc:
            raise httpcore2.ReadError(str(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError as exc:
            raise httpcore2.WriteTimeout("the bridge took nothing in time") from exc
        except OSError as exc:
            raise httpcore2.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("the control socket speaks plain HTTP; TLS is never used")

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            # Asked of an idle pooled connection: readable means the bridge closed it.
            return self._reader.at_eof() or self._writer.is_closing()
        return None


class UnixSocketBackend(httpcore2.AsyncNetworkBackend):
    """Connects to Unix sockets only: the control API's TCP mode keeps httpx2's own backend."""

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        except TimeoutError as exc:
            raise httpcore2.ConnectTimeout(f"no answer from {path} in time") from exc
        except OSError as exc:
            raise httpcore2.ConnectError(str(exc)) from exc
        return _UnixStream(reader, writer)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("this transport reaches the bridge's Unix socket only")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def unix_transport(path: str) -> httpx2.AsyncHTTPTransport:
    """httpx2's transport (its request/response mapping and errors) on `UnixSocketBackend`."""
    transport = httpx2.AsyncHTTPTransport(uds=path, verify=False, trust_env=False)
    # httpx2 takes no network backend argument; its pool is the one place that holds it.
    transport._pool = httpcore2.AsyncConnectionPool(  # pyright: ignore[reportPrivateUsage]
        uds=path, network_backend=UnixSocketBackend()
    )
    return transport
