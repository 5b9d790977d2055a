"""The control channel is ours: attacks by another local user.

We run as root here, so "another user" is simulated: folders and sockets are `os.chown`ed to an
unused uid, and a listener that runs as someone else is a forked child that `setuid`s before
it listens. In every case the client refuses before sending a byte (the token is in the
Authorization header of the first request), and the bridge keeps working.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.control.channel import ChannelUntrusted, trusted_socket
from bridge.control.client import ControlClient
from bridge.control.errors import BridgeUnavailable
from bridge.control.lockfile import BridgeLock
from bridge.paths import DataPaths, UnsafeDirectory, runtime_dir
from tests.helpers import spawned_bridge

OTHER_UID = 54321

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or os.geteuid() != 0, reason="needs root to act as another user"
)


@pytest.fixture
def paths(tmp_path: Path) -> DataPaths:
    p = DataPaths(tmp_path / "data")
    p.ensure()
    p.token.write_text("secret-token", encoding="utf-8")
    return p


@pytest.fixture
def locked(paths: DataPaths) -> Iterator[DataPaths]:
    """The lock held, as a live bridge would hold it."""
    lock = BridgeLock(paths.lock)
    lock.acquire()
    try:
        yield paths
    finally:
        lock.release()


class Squatter:
    """A listener at `path` that records what clients send it, run in a forked child that
    becomes `uid` before it listens (so the kernel reports that uid as the peer)."""

    def __init__(self, path: Path, *, uid: int | None = None, chown_to: int | None = None):
        self.path = path
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        if chown_to is not None:
            os.chown(path, chown_to, chown_to)
        read, self._write = os.pipe()
        self._read = read
        self.pid = os.fork()
        if self.pid == 0:  # the squatter
            try:
                os.close(read)
                if uid is not None:
                    os.setgid(uid)
                    os.setuid(uid)
                sock.listen(8)
                os.write(self._write, b"L")  # listening: the parent may go on
                sock.settimeout(5)
                got = b""
                try:
                    while True:
                        conn, _ = sock.accept()
                        conn.settimeout(1)
                        try:
                            while chunk := conn.recv(65536):
                                got += chunk
                        except OSError:
                            pass
                        conn.close()
                        os.write(self._write, b"C" + got[:500])
                except OSError:
                    pass
            finally:
                os._exit(0)
        sock.close()
        os.close(self._write)
        assert os.read(self._read, 1) == b"L"

    def received(self) -> bytes:
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        chunks = []
        while chunk := os.read(self._read, 65536):
            chunks.append(chunk)
        os.close(self._read)
        return b"".join(chunks)


def _health(paths: DataPaths) -> None:
    asyncio.run(ControlClient(paths).health(timeout=3))


def test_no_lock_held_means_no_connection_at_all(paths: DataPaths) -> None:
    squatter = Squatter(paths.socket)
    with pytest.raises(BridgeUnavailable, match="No bridge holds"):
        _health(paths)
    assert squatter.received() == b""  # not even a connection


def test_a_listener_running_as_another_user_gets_no_token(locked: DataPaths) -> None:
    squatter = Squatter(locked.socket, uid=OTHER_UID)
    with pytest.raises(BridgeUnavailable, match=f"runs as uid {OTHER_UID}"):
        _health(locked)
    got = squatter.received()
    assert b"secret-token" not in got and b"Bearer" not in got
    assert got in (b"", b"C")  # at most the probe connection, with nothing sent on it


def test_a_socket_owned_by_another_user_is_refused(locked: DataPaths) -> None:
    squatter = Squatter(locked.socket, chown_to=OTHER_UID)
    with pytest.raises(BridgeUnavailable, match=f"belongs to uid {OTHER_UID}"):
        _health(locked)
    assert squatter.received() == b""


def test_a_regular_file_or_symlink_in_place_of_the_socket_is_refused(locked: DataPaths) -> None:
    locked.socket.write_text("not a socket", encoding="utf-8")
    with pytest.raises(ChannelUntrusted, match="not a socket"):
        trusted_socket(locked)
    locked.socket.unlink()
    elsewhere = locked.root.parent / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    os.chmod(elsewhere, 0o755)
    os.symlink(elsewhere / "x.sock", locked.socket)
    with pytest.raises(ChannelUntrusted, match="not safe"):
        trusted_socket(locked)


def test_data_dirs_that_are_not_ours_are_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, OTHER_UID, OTHER_UID)
    with pytest.raises(UnsafeDirectory, match=f"belongs to uid {OTHER_UID}"):
        DataPaths(theirs).ensure()
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(UnsafeDirectory, match="not a directory"):
        DataPaths(link).ensure()
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    DataPaths(loose).ensure()  # ours: tightened, not refused
    assert stat.S_IMODE(os.lstat(loose).st_mode) == 0o700


def test_a_squatted_runtime_folder_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(xdg))
    assert runtime_dir() == xdg / "whatsapp-mcp"
    squatted = xdg / "whatsapp-mcp"
    squatted.mkdir(mode=0o777)
    os.chown(squatted, OTHER_UID, OTHER_UID)
    long_dir = tmp_path / ("d" * 60) / ("e" * 60)
    paths = DataPaths(long_dir)
    paths.ensure()
    target = paths.socket_bind_path()
    assert squatted not in target.parents
    st = os.lstat(target.parent)
    assert st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o700
    assert len(os.fsencode(target)) < 100


def test_the_runtime_folder_is_under_xdg_runtime_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(xdg))
    paths = DataPaths(tmp_path / ("d" * 60) / ("e" * 60))
    paths.ensure()
    target = paths.socket_bind_path()
    assert target.parent == xdg / "whatsapp-mcp"
    assert stat.S_IMODE(os.lstat(target.parent).st_mode) == 0o700


def test_the_next_bridge_removes_stale_endpoints_and_serves(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "data")
    paths.ensure()
    # What a dead bridge (or someone) left: a port file, and a socket link pointing away.
    paths.port_file.write_text("1", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere / "trap.sock", paths.socket)
    with spawned_bridge(paths):
        assert not paths.port_file.exists()
        assert stat.S_ISSOCK(os.lstat(paths.socket).st_mode)
        assert not (elsewhere / "trap.sock").exists()
