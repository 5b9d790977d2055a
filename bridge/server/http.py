"""Just enough HTTP/1.1 for the control API: one request per connection, JSON bodies.

Hand-written rather than a web framework so the limits (header and body size, content type,
auth before any body is read) are explicit and the bridge starts fast.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

MAX_HEAD = 16 * 1024
MAX_BODY = 256 * 1024

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class HttpError(Exception):
    """An HTTP-level failure with the status and JSON error body to answer with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> bytes:
        return json.dumps({"error": {"code": self.code, "message": self.message}}).encode()


@dataclass
class Head:
    start_line: str
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


async def read_head(reader: asyncio.StreamReader) -> Head:
    """Read a request or response head; header names are lower-cased."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise HttpError(413, "head_too_large", "Request head is too large.") from exc
    except asyncio.IncompleteReadError as exc:
        raise HttpError(400, "bad_request", "Connection closed before the head ended.") from exc
    if len(raw) > MAX_HEAD:
        raise HttpError(413, "head_too_large", "Request head is too large.")
    try:
        text = raw.decode("latin-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes every byte
        raise HttpError(400, "bad_request", "Undecodable head.") from exc
    lines = text.split("\r\n")
    head = Head(lines[0])
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise HttpError(400, "bad_request", f"Malformed header line {line[:60]!r}.")
        head.headers[name.strip().lower()] = value.strip()
    return head


async def read_body(reader: asyncio.StreamReader, head: Head, limit: int = MAX_BODY) -> bytes:
    if head.header("transfer-encoding"):
        raise HttpError(411, "length_required", "Send a Content-Length; chunked is not accepted.")
    raw = head.header("content-length")
    if raw is None:
        return b""
    try:
        length = int(raw)
    except ValueError as exc:
        raise HttpError(400, "bad_request", "Content-Length is not a number.") from exc
    if length < 0:
        raise HttpError(400, "bad_request", "Content-Length is negative.")
    if length > limit:
        raise HttpError(413, "body_too_large", f"Body is {length} bytes; the limit is {limit}.")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise HttpError(400, "bad_request", "Body shorter than Content-Length.") from exc


def response_bytes(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body
