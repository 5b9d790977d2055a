"""Serving the control API: a socket we bind ourselves, handed to uvicorn.

Why not uvicorn's own `uds=`: it chmods the socket to 0666 (any local user could then knock)
and it installs SIGTERM/SIGINT handlers that would take the bridge's shutdown away from the
daemon. So: the socket is created under a 0077 umask and chmodded 0600, uvicorn gets it through
`sockets=`, and `capture_signals` is a no-op. Limits a raw socket needs that uvicorn does not
give by default: a head timeout (a client that never finishes its head is dropped), a head size
cap, and a connection cap (uvicorn answers 503 past it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Generator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

MAX_HEAD = 16 * 1024
HEAD_TIMEOUT = 10.0
MAX_CONNECTIONS = 64
_STARTUP_TIMEOUT = 10.0


class _HeadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, plus: a connection whose request head has not fully arrived
    `HEAD_TIMEOUT` seconds after it opened (or after its previous answer) is closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        armed_for = self.scope
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out, armed_for)

    def _head_timed_out(self, armed_for: object) -> None:
        # A new head arrived since arming iff uvicorn built a new scope for it.
        if self.scope is armed_for and not self.transport.is_closing():
            log.info("control API: a client sent no complete request head in time; closed")
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the bridge daemon."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind_unix(path: Path) -> socket.socket:
    """A listening Unix socket at `path`, 0600 from its first moment (0077 umask at bind)."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old = os.umask(0o077)
        try:
            sock.bind(str(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def bind_loopback() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _config(app: ASGIApp) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=_HeadTimeoutProtocol,
        ws="none",
        lifespan="off",
        interface="asgi3",
        log_config=None,  # the bridge's logging stays as the daemon set it up
        access_log=False,
        server_header=False,
        date_header=False,
        limit_concurrency=MAX_CONNECTIONS,
        h11_max_incomplete_event_size=MAX_HEAD,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=2,
    )


class SocketServer:
    """One uvicorn server on one socket, run as a task of the current loop."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    async def start(self, sock: socket.socket) -> None:
        self._sock = sock
        self._server = _QuietServer(_config(self._app))
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="control-api")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STARTUP_TIMEOUT
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what made startup fail
                raise RuntimeError("the control API server stopped during startup")
            if loop.time() > deadline:
                raise RuntimeError("the control API server did not start in time")
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 5.0)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        except Exception:  # shutting down: a failure here must not mask the real exit
            log.exception("control API server failed while stopping")
        if self._sock is not None:
            self._sock.close()
