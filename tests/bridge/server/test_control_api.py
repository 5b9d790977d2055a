"""The control API refuses anything that is not an authenticated, well-formed JSON request,
and a refused request changes nothing."""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.paths import DataPaths
from store.db import open_reader
from tests.helpers import seeded_contact, spawned_bridge


@pytest.fixture(scope="module")
def running_bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPaths]:
    """One simulated `python -m bridge` for the module (each test uses its own texts)."""
    with spawned_bridge(DataPaths(tmp_path_factory.mktemp("control-api") / "data")) as paths:
        yield paths


def raw(paths: DataPaths, data: bytes, *, tcp: bool = False) -> tuple[int, dict[str, object]]:
    if tcp:
        port = int(paths.port_file.read_text(encoding="utf-8"))
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(str(paths.socket_connect_path()))
    with sock:
        try:
            sock.sendall(data)
        except BrokenPipeError:
            pass  # the bridge answers 413 without reading an oversized body; read its answer
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body) if body else {}


def request(
    paths: DataPaths,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    token: str | None = "real",
    ctype: str | None = "application/json",
    host: str = "localhost",
    extra: str = "",
    tcp: bool = False,
) -> tuple[int, dict[str, object]]:
    if token == "real":
        token = paths.token.read_text(encoding="utf-8").strip()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        if ctype:
            lines.append(f"Content-Type: {ctype}")
        lines.append(f"Content-Length: {len(body)}")
    if extra:
        lines.append(extra)
    return raw(paths, ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""), tcp=tcp)


def outbound_count(paths: DataPaths, text: str) -> int:
    """How many of my messages carry `text` (the seed's own history keeps arriving meanwhile)."""
    conn = open_reader(paths.messages_db)
    try:
        row = conn.execute(
            "SELECT count(*) FROM messages WHERE is_from_me = 1 AND content = ?", (text,)
        ).fetchone()
        return int(row[0])
    finally:
        conn.close()


def test_socket_and_token_are_private_to_the_user(running_bridge: DataPaths) -> None:
    paths = running_bridge
    assert stat.S_IMODE(os.stat(paths.socket_connect_path()).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.token).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.root).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(paths.messages_db).st_mode) == 0o600


def test_health_answers_with_the_token(running_bridge: DataPaths) -> None:
    status, body = request(running_bridge, "GET", "/health")
    assert status == 200 and body["ok"] is True and body["simulate"] is True


@pytest.mark.parametrize("token", [None, "", "wrong-token", "real "])
def test_send_without_the_right_token_is_401_and_sends_nothing(
    running_bridge: DataPaths, token: str | None
) -> None:
    paths = running_bridge
    if token == "real ":
        token = paths.token.read_text(encoding="utf-8").strip()[:-1] + "x"
    body = json.dumps({"to": seeded_contact(paths), "text": "leak"}).encode()
    status, err = request(paths, "POST", "/api/send", body, token=token)
    assert status == 401
    assert err["error"]["code"] == "unauthorized"  # type: ignore[index]
    assert outbound_count(paths, "leak") == 0


@pytest.mark.parametrize(
    ("body", "ctype", "expected"),
    [
        (b'{"to": "+15550001111", "text": "hi"}', "text/plain", 415),
        (b'{"to": "+15550001111", "text": "hi"}', None, 415),
        (b"{not json", "application/json", 400),
        (b'{"to": "+15550001111", "text": "hi", "bcc": "x"}', "application/json", 422),
        (b'{"to": "+15550001111"}', "application/json", 422),
        (b'{"to": "+15550001111", "text": "' + b"a" * 300_000 + b'"}', "application/json", 413),
    ],
)
def test_malformed_send_requests_are_refused_and_send_nothing(
    running_bridge: DataPaths, body: bytes, ctype: str | None, expected: int
) -> None:
    status, err = request(running_bridge, "POST", "/api/send", body, ctype=ctype)
    assert status == expected, err
    assert set(err) == {"error"} and err["error"]["message"]  # type: ignore[index]
    assert outbound_count(running_bridge, "hi") == 0


def test_unknown_endpoint_and_wrong_method(running_bridge: DataPaths) -> None:
    assert request(running_bridge, "GET", "/api/nope")[0] == 404
    assert request(running_bridge, "GET", "/api/send")[0] == 405


def test_a_valid_send_is_stored_as_my_message(running_bridge: DataPaths) -> None:
    paths = running_bridge
    to = seeded_contact(paths)
    text = "a message only this test sends"
    body = json.dumps({"to": to, "text": text}).encode()
    status, answer = request(paths, "POST", "/api/send", body)
    assert status == 200, answer
    assert answer["chat_jid"] == to
    assert outbound_count(paths, text) == 1


def test_bad_recipient_is_a_clear_422(running_bridge: DataPaths) -> None:
    status, body = request(
        running_bridge, "POST", "/api/send", b'{"to": "not a number", "text": "hi"}'
    )
    assert status == 422
    assert "phone number" in str(body["error"])


@pytest.fixture
def tcp_bridge(data_dir: Path) -> Iterator[DataPaths]:
    with spawned_bridge(DataPaths(data_dir), tcp=True) as paths:
        yield paths


def test_tcp_fallback_rejects_browsers_and_foreign_hosts(tcp_bridge: DataPaths) -> None:
    paths = tcp_bridge
    port = paths.port_file.read_text(encoding="utf-8").strip()
    ok_host = f"127.0.0.1:{port}"
    assert request(paths, "GET", "/health", host=ok_host, tcp=True)[0] == 200
    assert request(paths, "GET", "/health", host=f"localhost:{port}", tcp=True)[0] == 200
    assert request(paths, "GET", "/health", host="evil.example", tcp=True)[0] == 403
    assert request(paths, "GET", "/health", host=f"evil.example:{port}", tcp=True)[0] == 403
    status, _ = request(
        paths, "GET", "/health", host=ok_host, extra="Origin: http://evil.example", tcp=True
    )
    assert status == 403
    assert request(paths, "GET", "/health", host=ok_host, token=None, tcp=True)[0] == 401
    body = json.dumps({"to": seeded_contact(paths), "text": "from a browser"}).encode()
    status, _ = request(
        paths, "POST", "/api/send", body, host=ok_host, extra="Origin: null", tcp=True
    )
    assert status == 403
    assert outbound_count(paths, "from a browser") == 0


def test_long_data_dir_binds_the_socket_elsewhere_and_links_it(tmp_path: Path) -> None:
    data_dir = tmp_path / ("d" * 60) / ("e" * 60)
    with spawned_bridge(DataPaths(data_dir)) as paths:
        assert paths.socket.is_symlink()
        target = paths.socket_connect_path()
        assert len(os.fsencode(target)) < 100
        assert request(paths, "GET", "/health")[0] == 200
    assert not paths.socket.exists()
    assert not target.exists()
