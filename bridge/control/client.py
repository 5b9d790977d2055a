"""Client side of the control API (httpx2 over the bridge's socket), used by the MCP server and
the CLI: one typed method per endpoint, on top of a generic `call`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import TypeVar

import httpx2
from pydantic import BaseModel, ValidationError

from bridge.control.autoreply import AutoReplyState, SetAutoReplyRequest
from bridge.control.channel import ChannelUntrusted, trusted_socket
from bridge.control.errors import BridgeError, BridgeUnavailable
from bridge.control.lockfile import lock_is_held
from bridge.control.models import (
    BridgeEvent,
    BridgeStatus,
    DownloadRequest,
    DownloadResponse,
    Health,
    InboundRequest,
    InboundResponse,
    LogoutResponse,
    MarkReadRequest,
    MarkReadResponse,
    PairCodeResponse,
    PairPhoneRequest,
    QrRequest,
    QrResponse,
    ReactRequest,
    ReactResponse,
    SendFileRequest,
    SendFileResponse,
    SendResponse,
    SendTextRequest,
    StopResponse,
)
from bridge.paths import DataPaths

M = TypeVar("M", bound=BaseModel)


def _error_of(status: int, data: bytes) -> BridgeError:
    code, message = "http_error", data.decode("utf-8", "replace")[:500]
    with contextlib.suppress(ValueError, KeyError, TypeError):
        err = json.loads(data)["error"]
        code, message = str(err["code"]), str(err["message"])
    return BridgeError(status, code, message)


class ControlClient:
    """Talks to the bridge of one data directory.

    `transport` replaces the socket (tests pass `httpx2.ASGITransport(bridge_app)` to run the
    server and a bridge in one process); otherwise each exchange opens a fresh connection to
    the socket, after checking that the bridge still holds its lock and owns the socket.
    """

    def __init__(
        self,
        paths: DataPaths,
        *,
        tcp: bool = False,
        timeout: float = 30.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.paths = paths
        self.tcp = tcp
        self.timeout = timeout
        self.transport = transport

    def _token(self) -> str:
        try:
            return self.paths.token.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BridgeUnavailable(f"The bridge is not running (no token file: {exc}).") from exc

    def _client(self, timeout: float | None) -> httpx2.AsyncClient:
        transport = self.transport
        base = "http://localhost"
        try:
            if transport is None and self.tcp:
                if not lock_is_held(self.paths.lock):
                    raise ChannelUntrusted(f"No bridge holds {self.paths.lock}.")
                port = int(self.paths.port_file.read_text(encoding="utf-8").strip())
                base = f"http://127.0.0.1:{port}"
                transport = httpx2.AsyncHTTPTransport(verify=False, trust_env=False)
            elif transport is None:
                # Imported here: httpcore2 (about 12 ms) is not needed to answer `initialize`.
                from bridge.control.uds import unix_transport

                path = trusted_socket(self.paths)
                transport = unix_transport(str(path))
        except ChannelUntrusted as exc:
            raise BridgeUnavailable(str(exc)) from exc
        except (OSError, ValueError) as exc:
            raise BridgeUnavailable(f"The bridge is not running ({exc}).") from exc
        return httpx2.AsyncClient(
            transport=transport,
            base_url=base,
            timeout=timeout,
            trust_env=False,
            headers={"authorization": f"Bearer {self._token()}"},
        )

    async def request(
        self, method: str, path: str, body: BaseModel | None = None, *, timeout: float | None = None
    ) -> bytes:
        payload = body.model_dump_json().encode() if body is not None else None
        if method == "POST" and payload is None:
            payload = b"{}"
        headers = {"content-type": "application/json"} if payload is not None else {}
        wait = timeout or self.timeout
        try:
            async with self._client(wait) as client:
                answer = await client.request(method, path, content=payload, headers=headers)
        except httpx2.TimeoutException as exc:
            raise BridgeError(
                504, "bridge_timeout", f"The bridge did not answer {method} {path} in time."
            ) from exc
        except (httpx2.TransportError, OSError) as exc:
            raise BridgeUnavailable(f"The bridge is not reachable ({exc!r}).") from exc
        if answer.status_code != 200:
            raise _error_of(answer.status_code, answer.content)
        return answer.content

    async def call(
        self,
        method: str,
        path: str,
        model: type[M],
        body: BaseModel | None = None,
        *,
        timeout: float | None = None,
    ) -> M:
        """Any endpoint, by method and path: for the typed methods below and the typed helpers
        of the feature modules (bridge/control/{schedule,transcribe,importing,security}.py)."""
        data = await self.request(method, path, body, timeout=timeout)
        try:
            return model.model_validate_json(data)
        except ValidationError as exc:
            raise BridgeError(
                502, "bad_response", f"Unexpected answer from the bridge: {exc}"
            ) from exc

    async def events(self) -> AsyncIterator[BridgeEvent]:
        """The bridge's event stream; holding it open is what counts as being attached."""
        try:
            async with (
                self._client(None) as client,
                client.stream("GET", "/api/events") as answer,
            ):
                if answer.status_code != 200:
                    raise _error_of(answer.status_code, await answer.aread())
                async for line in answer.aiter_lines():
                    if line.startswith("data:"):
                        with contextlib.suppress(ValidationError):
                            yield BridgeEvent.model_validate_json(line[5:].strip())
        except (httpx2.TransportError, OSError) as exc:
            raise BridgeUnavailable(f"The bridge's event stream broke ({exc!r}).") from exc

    # ------------------------------------------------------------------ one method per endpoint

    async def health(self, timeout: float = 2.0) -> Health:
        return await self.call("GET", "/health", Health, timeout=timeout)

    async def status(self, timeout: float = 5.0) -> BridgeStatus:
        return await self.call("GET", "/api/status", BridgeStatus, timeout=timeout)

    async def stop(self, timeout: float = 5.0) -> StopResponse:
        return await self.call("POST", "/api/stop", StopResponse, timeout=timeout)

    async def send_text(self, req: SendTextRequest) -> SendResponse:
        return await self.call("POST", "/api/send", SendResponse, req)

    async def send_file(self, req: SendFileRequest, timeout: float = 120.0) -> SendFileResponse:
        return await self.call("POST", "/api/send_file", SendFileResponse, req, timeout=timeout)

    async def react(self, req: ReactRequest) -> ReactResponse:
        return await self.call("POST", "/api/react", ReactResponse, req)

    async def mark_read(self, req: MarkReadRequest) -> MarkReadResponse:
        return await self.call("POST", "/api/mark_read", MarkReadResponse, req)

    async def download(self, req: DownloadRequest, timeout: float = 120.0) -> DownloadResponse:
        return await self.call("POST", "/api/download", DownloadResponse, req, timeout=timeout)

    async def login_qr(self, req: QrRequest, timeout: float = 30.0) -> QrResponse:
        return await self.call("POST", "/api/pairing/qr", QrResponse, req, timeout=timeout)

    async def pair_phone(self, req: PairPhoneRequest, timeout: float = 60.0) -> PairCodeResponse:
        return await self.call("POST", "/api/pairing/phone", PairCodeResponse, req, timeout=timeout)

    async def logout(self, timeout: float = 30.0) -> LogoutResponse:
        return await self.call("POST", "/api/logout", LogoutResponse, timeout=timeout)

    async def autoreply_state(self) -> AutoReplyState:
        return await self.call("GET", "/api/autoreply", AutoReplyState)

    async def set_autoreply(
        self, req: SetAutoReplyRequest, timeout: float | None = None
    ) -> AutoReplyState:
        return await self.call("POST", "/api/autoreply/rules", AutoReplyState, req, timeout=timeout)

    async def simulate_inbound(self, req: InboundRequest) -> InboundResponse:
        return await self.call("POST", "/api/simulate/inbound", InboundResponse, req)
