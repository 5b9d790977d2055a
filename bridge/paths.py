"""Files in the data directory, and how to make them private.

The directory is 0700 and every file 0600: the store holds private chats and the token file
is the key to the control API.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

# sun_path is 108 bytes on Linux and 104 on macOS, including the terminating NUL.
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @property
    def messages_db(self) -> Path:
        return self.root / "messages.db"

    @property
    def session_db(self) -> Path:
        return self.root / "session.db"

    @property
    def socket(self) -> Path:
        return self.root / "bridge.sock"

    @property
    def port_file(self) -> Path:
        return self.root / "bridge.port"

    @property
    def token(self) -> Path:
        return self.root / "bridge.token"

    @property
    def lock(self) -> Path:
        return self.root / "bridge.lock"

    @property
    def log(self) -> Path:
        return self.root / "bridge.log"

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def qr_png(self) -> Path:
        return self.root / "login-qr.png"

    def ensure(self) -> None:
        """Create the directory tree with private permissions (and tighten an existing one)."""
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        for sub in (self.media, self.outbox):
            sub.mkdir(exist_ok=True)
            os.chmod(sub, 0o700)

    def socket_bind_path(self) -> Path:
        """Where the bridge binds its socket: the data dir, or a short runtime folder when the
        data dir's path is too long for a Unix socket (then `bridge.sock` is a symlink to it)."""
        if len(os.fsencode(self.socket)) <= _MAX_SOCKET_PATH:
            return self.socket
        digest = hashlib.sha256(os.fsencode(self.root)).hexdigest()[:16]
        runtime = Path(tempfile.gettempdir()) / f"wamcp-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.chmod(runtime, 0o700)
        return runtime / f"{digest}.sock"

    def socket_connect_path(self) -> Path:
        """The path a client connects to: the symlink's target when there is one, so the
        length limit applies to the short path."""
        try:
            return Path(os.readlink(self.socket))
        except OSError:
            return self.socket


def write_private(path: Path, data: str) -> None:
    """Write a 0600 text file atomically (never a moment where it is readable by others)."""
    write_private_bytes(path, data.encode("utf-8"))


def write_private_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
