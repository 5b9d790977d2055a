"""Limits of the control API that a raw socket needs: a client that never finishes its request
head is dropped, and past the connection cap the bridge answers 503 instead of piling up."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio.from_thread
import pytest
from pydantic import BaseModel

from bridge.server import serve
from bridge.server.app import ControlServer, Route
from tests.helpers import eventually

TOKEN = "limits-token"
GOOD = (
    f"GET /health HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\n"
    "Connection: close\r\n\r\n"
).encode()


class _Ok(BaseModel):
    ok: bool = True


async def _ok(_: object) -> _Ok:
    return _Ok()


async def _stream() -> AsyncIterator[str]:
    yield "{}"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(serve, "HEAD_TIMEOUT", 0.5)
    monkeypatch.setattr(serve, "MAX_CONNECTIONS", 4)
    path = tmp_path / "c.sock"
    with anyio.from_thread.start_blocking_portal() as portal:
        ctl = ControlServer(TOKEN, [Route("GET", "/health", _ok)], streams={"/e": _stream})
        portal.call(ctl.start_unix, path)
        try:
            yield path
        finally:
            portal.call(ctl.close)


def _connect(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(path))
    return s


def _read_all(s: socket.socket) -> bytes:
    chunks = []
    while chunk := s.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_the_socket_is_0600_from_the_start(server: Path) -> None:
    assert stat.S_ISSOCK(os.lstat(server).st_mode)
    assert stat.S_IMODE(os.lstat(server).st_mode) == 0o600


def test_a_client_that_never_finishes_its_head_is_dropped(server: Path) -> None:
    with _connect(server) as slow:
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: local")  # and then nothing
        # The server closes the connection (EOF) after the head timeout, answering nothing.
        assert _read_all(slow) == b""
    with _connect(server) as ok:
        ok.sendall(GOOD)
        assert _read_all(ok).startswith(b"HTTP/1.1 200 ")


def test_past_the_connection_cap_the_answer_is_503(server: Path) -> None:
    idle = [_connect(server) for _ in range(4)]
    try:
        with _connect(server) as extra:
            extra.sendall(GOOD)
            assert _read_all(extra).startswith(b"HTTP/1.1 503 ")
    finally:
        for s in idle:
            s.close()
    # Once they are gone, requests are served again.

    def served() -> bool:
        with _connect(server) as s:
            s.sendall(GOOD)
            return _read_all(s).startswith(b"HTTP/1.1 200 ")

    eventually(served, what="a request served after the idle connections left")


def test_an_oversized_head_is_refused(server: Path) -> None:
    big = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + b"a" * 20_000 + b"\r\n\r\n"
    with _connect(server) as s:
        s.sendall(big)
        answer = _read_all(s)
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 413 ")), answer[:100]
    with _connect(server) as ok:
        ok.sendall(GOOD)
        assert _read_all(ok).startswith(b"HTTP/1.1 200 ")


def test_a_wrong_token_is_answered_before_any_body_arrives(server: Path) -> None:
    """The body is announced but never sent: the 401 comes from the head alone."""
    head = (
        b"POST /health HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer wrong\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
    )
    with _connect(server) as s:
        s.settimeout(5)  # far below the head timeout's effect on a body that never comes
        s.sendall(head)
        answer = _read_all(s)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:100]
