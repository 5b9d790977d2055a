"""The bridge's control API as a Starlette app: declarative routes, pydantic in, typed errors out.

Every request must carry `Authorization: Bearer <token>`. Checks run in this order, cheapest
and most security-relevant first, and before any body is read: head size → 413, Host/Origin
(TCP only) → 403, token → 401 (these in `bridge.server.guard`), route → 404/405, content type →
415, body size → 413, JSON → 400, fields → 422. Serving it on a socket is `bridge.server.serve`.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp

from bridge.server.errors import HttpError
from bridge.server.guard import Guard
from bridge.server.serve import MAX_HEAD, SocketServer, bind_loopback, bind_unix

__all__ = [
    "MAX_BODY",
    "MAX_HEAD",
    "ErrorMapper",
    "HttpError",
    "Route",
    "StreamHandler",
    "ControlServer",
    "build_app",
]

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
# An oversized body is read and dropped up to this much before answering 413: closing a Unix
# socket with unread data makes the client's next read fail with ECONNRESET, so it would never
# see the answer.
_DRAIN_BUDGET = 4 * 1024 * 1024
HEARTBEAT = 15.0

Handler = Callable[[Any], Awaitable[BaseModel]]
# A stream yields the `data:` payloads of server-sent events; it ends when the bridge stops,
# and is closed (its `finally` runs) when the client leaves.
StreamHandler = Callable[[], AsyncIterator[str]]
ErrorMapper = Callable[[Exception], HttpError | None]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    body: type[BaseModel] | None = None


def error_response(exc: HttpError) -> Response:
    return Response(exc.body(), status_code=exc.status, media_type="application/json")


async def _drain(request: Request) -> None:
    budget = _DRAIN_BUDGET
    with contextlib.suppress(ClientDisconnect):
        async for chunk in request.stream():
            budget -= len(chunk)
            if budget <= 0:
                return


async def _read_body(request: Request) -> bytes:
    if request.headers.get("transfer-encoding"):
        raise HttpError(411, "length_required", "Send a Content-Length; chunked is not accepted.")
    raw = request.headers.get("content-length")
    if raw is None:
        return b""
    try:
        length = int(raw)
    except ValueError as exc:
        raise HttpError(400, "bad_request", "Content-Length is not a number.") from exc
    if length < 0:
        raise HttpError(400, "bad_request", "Content-Length is negative.")
    if length > MAX_BODY:
        if length <= _DRAIN_BUDGET:
            await _drain(request)
        raise HttpError(413, "body_too_large", f"Body is {length} bytes; the limit is {MAX_BODY}.")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:  # the server enforces Content-Length; belt and braces
                raise HttpError(413, "body_too_large", f"Body is over the limit of {MAX_BODY}.")
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise HttpError(400, "bad_request", "Body shorter than Content-Length.") from exc
    return b"".join(chunks)


async def _parse(request: Request, model: type[BaseModel]) -> BaseModel:
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != "application/json":
        raise HttpError(415, "unsupported_media_type", "Send Content-Type: application/json.")
    raw = await _read_body(request)
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise HttpError(400, "bad_json", f"Body is not valid JSON: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise HttpError(422, "invalid_request", problems) from exc


def _endpoint(route: Route, map_error: ErrorMapper) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            arg = await _parse(request, route.body) if route.body is not None else None
            try:
                result = await route.handler(arg)
            except HttpError:
                raise
            except Exception as exc:
                mapped = map_error(exc)
                if mapped is None:
                    raise
                raise mapped from exc
        except HttpError as exc:
            return error_response(exc)
        except Exception:  # one bad request must not kill the bridge; the log says why
            log.exception("control API request %s %s failed", route.method, route.path)
            return error_response(
                HttpError(500, "internal", "The bridge hit an internal error; see bridge.log.")
            )
        return Response(result.model_dump_json(), media_type="application/json")

    return endpoint


def _stream_endpoint(handler: StreamHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return EventSourceResponse(handler(), ping=HEARTBEAT, send_timeout=HEARTBEAT)

    return endpoint


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in the API's JSON error shape."""
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 405:
        err = HttpError(405, "method_not_allowed", f"{request.method} is not allowed on {path}.")
    elif exc.status_code == 404:
        err = HttpError(404, "not_found", f"No endpoint {path}.")
    else:
        err = HttpError(exc.status_code, "http_error", str(exc.detail))
    return error_response(err)


def build_app(
    token: str,
    routes: list[Route],
    *,
    streams: dict[str, StreamHandler] | None = None,
    map_error: ErrorMapper | None = None,
    on_request: Callable[[], None] | None = None,
    loopback_only: Callable[[], bool] = lambda: False,
) -> ASGIApp:
    """The control API: `Guard` (Host/Origin, token) around a Starlette router."""
    mapper: ErrorMapper = map_error or (lambda exc: None)
    table: list[BaseRoute] = [
        StarletteRoute(r.path, _endpoint(r, mapper), methods=[r.method]) for r in routes
    ]
    for path, handler in (streams or {}).items():
        table.append(StarletteRoute(path, _stream_endpoint(handler), methods=["GET"]))
    app = Starlette(routes=table, exception_handlers={HTTPException: _http_exception})
    return Guard(app, token, on_request=on_request, loopback_only=loopback_only)


class ControlServer:
    """The control API on a Unix socket (0600) or loopback TCP, in the running loop."""

    def __init__(
        self,
        token: str,
        routes: list[Route],
        *,
        streams: dict[str, StreamHandler] | None = None,
        map_error: ErrorMapper | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self._tcp_port: int | None = None
        self.app = build_app(
            token,
            routes,
            streams=streams,
            map_error=map_error,
            on_request=on_request,
            loopback_only=lambda: self._tcp_port is not None,
        )
        self._server = SocketServer(self.app)

    async def start_unix(self, path: Path) -> None:
        await self._server.start(bind_unix(path))

    async def start_tcp(self) -> int:
        sock = bind_loopback()
        self._tcp_port = int(sock.getsockname()[1])
        await self._server.start(sock)
        return self._tcp_port

    async def close(self) -> None:
        await self._server.close()
