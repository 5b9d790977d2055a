"""Client side of the control API, used by the MCP server and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bridge.control.models import BridgeEvent, Health
from bridge.paths import DataPaths
from bridge.server.http import read_head

M = TypeVar("M", bound=BaseModel)


class BridgeError(Exception):
    """The bridge answered with an error; `code` is machine-readable, the message is for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class BridgeUnavailable(BridgeError):
    """No bridge answers on the control socket."""

    def __init__(self, message: str) -> None:
        super().__init__(503, "bridge_unavailable", message)


class ControlClient:
    def __init__(self, paths: DataPaths, *, tcp: bool = False, timeout: float = 30.0) -> None:
        self.paths = paths
        self.tcp = tcp
        self.timeout = timeout

    def _token(self) -> str:
        try:
            return self.paths.token.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BridgeUnavailable(f"The bridge is not running (no token file: {exc}).") from exc

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
        try:
            if self.tcp:
                port = int(self.paths.port_file.read_text(encoding="utf-8").strip())
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                return reader, writer, f"127.0.0.1:{port}"
            path = self.paths.socket_connect_path()
            reader, writer = await asyncio.open_unix_connection(str(path))
            return reader, writer, "localhost"
        except (OSError, ValueError) as exc:
            raise BridgeUnavailable(f"The bridge is not running ({exc}).") from exc

    def _request_bytes(self, method: str, path: str, host: str, body: bytes | None) -> bytes:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {host}",
            f"Authorization: Bearer {self._token()}",
            "Connection: close",
        ]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")

    async def request(
        self, method: str, path: str, body: BaseModel | None = None, *, timeout: float | None = None
    ) -> bytes:
        payload = body.model_dump_json().encode() if body is not None else None
        if method == "POST" and payload is None:
            payload = b"{}"

        async def exchange() -> tuple[int, bytes]:
            reader, writer, host = await self._open()
            try:
                writer.write(self._request_bytes(method, path, host, payload))
                await writer.drain()
                # Nothing more will be sent: say so, or the server lingers (up to 1 s) for
                # more body before closing after an error answer.
                if writer.can_write_eof():
                    writer.write_eof()
                head = await read_head(reader)
                return int(head.start_line.split(" ")[1]), await reader.read()
            finally:
                writer.close()

        try:
            status, data = await asyncio.wait_for(exchange(), timeout or self.timeout)
        except asyncio.TimeoutError as exc:
            raise BridgeError(
                504, "bridge_timeout", f"The bridge did not answer {method} {path} in time."
            ) from exc
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            raise BridgeUnavailable(f"The bridge closed the connection ({exc}).") from exc
        if status != 200:
            code, message = "http_error", data.decode("utf-8", "replace")[:500]
            with contextlib.suppress(ValueError, KeyError, TypeError):
                err = json.loads(data)["error"]
                code, message = str(err["code"]), str(err["message"])
            raise BridgeError(status, code, message)
        return data

    async def call(
        self, method: str, path: str, model: type[M], body: BaseModel | None = None, **kw: float
    ) -> M:
        data = await self.request(method, path, body, timeout=kw.get("timeout"))
        try:
            return model.model_validate_json(data)
        except ValidationError as exc:
            raise BridgeError(
                502, "bad_response", f"Unexpected answer from the bridge: {exc}"
            ) from exc

    async def health(self, timeout: float = 2.0) -> Health:
        return await self.call("GET", "/health", Health, timeout=timeout)

    async def events(self) -> AsyncIterator[BridgeEvent]:
        """The bridge's event stream; holding it open is what counts as being attached."""
        reader, writer, host = await self._open()
        try:
            writer.write(self._request_bytes("GET", "/api/events", host, None))
            await writer.drain()
            head = await read_head(reader)
            status = int(head.start_line.split(" ")[1])
            if status != 200:
                raise BridgeError(status, "stream_refused", (await reader.read()).decode()[:300])
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"data:"):
                    with contextlib.suppress(ValidationError):
                        yield BridgeEvent.model_validate_json(line[5:].strip())
        finally:
            writer.close()
