"""The bridge's control API server: HTTP over a Unix socket (0600) or, on Windows, loopback TCP.

Every request must carry `Authorization: Bearer <token>`. Checks run in this order, cheapest
and most security-relevant first, and before any body is read: Host/Origin (TCP only) → 403,
token → 401, route → 404/405, content type → 415, size → 413, JSON → 400, fields → 422.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bridge.server.http import HttpError, read_body, read_head, response_bytes

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[BaseModel]]
StreamHandler = Callable[[asyncio.StreamWriter], Awaitable[None]]
ErrorMapper = Callable[[Exception], HttpError | None]

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    body: type[BaseModel] | None = None


async def _linger(reader: asyncio.StreamReader) -> None:
    """Discard what the client is still sending (an oversized body) so closing the socket does
    not reset the connection before the client has read our error answer."""
    budget = 4 * 1024 * 1024

    async def drain() -> None:
        nonlocal budget
        while budget > 0 and (chunk := await reader.read(65536)):
            budget -= len(chunk)

    with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
        await asyncio.wait_for(drain(), 1.0)


async def _until_client_leaves(reader: asyncio.StreamReader, serving: Awaitable[None]) -> None:
    """Run a stream handler until it ends or the client hangs up. A stream client sends nothing
    after its request, so EOF on the socket is the moment it left; without watching for it a
    departed client would count as attached until the next heartbeat write failed, keeping an
    idle bridge alive that much past its grace period."""

    async def eof() -> None:
        while await reader.read(4096):
            pass

    tasks = [asyncio.ensure_future(serving), asyncio.ensure_future(eof())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task


class ControlServer:
    def __init__(
        self,
        token: str,
        routes: list[Route],
        *,
        streams: dict[str, StreamHandler] | None = None,
        map_error: ErrorMapper | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self._token = token.encode()
        self._routes = {(r.method, r.path): r for r in routes}
        self._paths = {r.path for r in routes}
        self._streams = streams or {}
        self._map_error = map_error or (lambda exc: None)
        self._on_request = on_request or (lambda: None)
        self._server: asyncio.AbstractServer | None = None
        self._tcp_port: int | None = None

    async def start_unix(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        # Created under a 0077 umask so there is no window where the socket is open to others.
        old = os.umask(0o077)
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)

    async def start_tcp(self) -> int:
        self._server = await asyncio.start_server(self._serve, host="127.0.0.1", port=0)
        sock = self._server.sockets[0]
        self._tcp_port = int(sock.getsockname()[1])
        return self._tcp_port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            streamed = await self._dispatch(reader, writer)
            if streamed:
                return
        except HttpError as exc:
            with contextlib.suppress(ConnectionError):
                writer.write(response_bytes(exc.status, exc.body()))
                await writer.drain()
                await _linger(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:  # top of a connection loop: one bad request must not kill the bridge
            log.exception("control API request failed")
            with contextlib.suppress(ConnectionError):
                err = HttpError(
                    500, "internal", "The bridge hit an internal error; see bridge.log."
                )
                writer.write(response_bytes(500, err.body()))
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _check_origin(self, head_host: str | None, origin: str | None) -> None:
        if self._tcp_port is None:
            return
        # DNS rebinding and browser pages: a browser always sends Origin on cross-site fetches.
        if origin is not None:
            raise HttpError(403, "forbidden_origin", "Browser requests are not accepted.")
        host = (head_host or "").rsplit(":", 1)[0] if head_host else ""
        if host not in _LOOPBACK_HOSTS:
            raise HttpError(403, "forbidden_host", "Host must be a loopback address.")

    async def _dispatch(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await read_head(reader)
        parts = head.start_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise HttpError(400, "bad_request", "Malformed request line.")
        method, target = parts[0], parts[1].split("?", 1)[0]
        self._check_origin(head.header("host"), head.header("origin"))
        auth = head.header("authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), self._token
        ):
            raise HttpError(401, "unauthorized", "Missing or wrong bearer token.")
        self._on_request()

        stream = self._streams.get(target)
        if stream is not None and method == "GET":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Cache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n"
            )
            await writer.drain()
            await _until_client_leaves(reader, stream(writer))
            return True

        route = self._routes.get((method, target))
        if route is None:
            if target in self._paths or target in self._streams:
                raise HttpError(405, "method_not_allowed", f"{method} is not allowed on {target}.")
            raise HttpError(404, "not_found", f"No endpoint {target}.")

        arg: Any = None
        if route.body is not None:
            ctype = (head.header("content-type") or "").split(";", 1)[0].strip().lower()
            if ctype != "application/json":
                raise HttpError(
                    415, "unsupported_media_type", "Send Content-Type: application/json."
                )
            raw = await read_body(reader, head)
            try:
                data = json.loads(raw or b"null")
            except (ValueError, UnicodeDecodeError) as exc:
                raise HttpError(400, "bad_json", f"Body is not valid JSON: {exc}") from exc
            try:
                arg = route.body.model_validate(data)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                    for e in exc.errors()
                )
                raise HttpError(422, "invalid_request", problems) from exc
        try:
            result = await route.handler(arg)
        except HttpError:
            raise
        except Exception as exc:
            mapped = self._map_error(exc)
            if mapped is None:
                raise
            raise mapped from exc
        writer.write(response_bytes(200, result.model_dump_json().encode()))
        await writer.drain()
        return False
