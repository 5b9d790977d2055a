"""The first thing every control-API request meets: head size, Host/Origin (TCP only), token.

A pure ASGI middleware, so it answers from the head alone: nothing of the body has been read
when a browser page or a caller without the token is turned away.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bridge.server.errors import HttpError
from bridge.server.serve import MAX_HEAD

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


def check_origin(headers: Headers) -> None:
    # DNS rebinding and browser pages: a browser always sends Origin on cross-site fetches.
    if "origin" in headers:
        raise HttpError(403, "forbidden_origin", "Browser requests are not accepted.")
    host = headers.get("host", "")
    if host.startswith("["):
        host = host.split("]", 1)[0] + "]"
    else:
        host = host.rsplit(":", 1)[0]
    if host not in _LOOPBACK_HOSTS:
        raise HttpError(403, "forbidden_host", "Host must be a loopback address.")


def check_head_size(scope: Scope, limit: int) -> None:
    # uvicorn's h11 caps only a head that arrives in pieces; one that arrives whole is parsed
    # at any size, so the limit is checked here again on what was parsed.
    size = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) + 16
    size += sum(len(k) + len(v) + 4 for k, v in scope["headers"])
    if size > limit:
        raise HttpError(413, "head_too_large", f"Request head is over {limit} bytes.")


def check_token(headers: Headers, token: bytes) -> None:
    scheme, _, given = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token):
        raise HttpError(401, "unauthorized", "Missing or wrong bearer token.")


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        token: str,
        *,
        on_request: Callable[[], None] | None = None,
        loopback_only: Callable[[], bool] = lambda: False,
    ) -> None:
        self.app = app
        self._token = token.encode()
        self._on_request = on_request or (lambda: None)
        self._loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is off and websockets are not served
            return
        headers = Headers(scope=scope)
        try:
            check_head_size(scope, MAX_HEAD)
            if self._loopback_only():
                check_origin(headers)
            check_token(headers, self._token)
        except HttpError as exc:
            answer = Response(exc.body(), status_code=exc.status, media_type="application/json")
            await answer(scope, receive, send)
            return
        self._on_request()
        await self.app(scope, receive, send)
