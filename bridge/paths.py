"""Files in the data directory, and how to make them private.

The directory is 0700 and every file 0600: the store holds private chats and the token file
is the key to the control API.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
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
        """Create the directory tree with private permissions (and tighten an existing one of
        ours); refuse a folder that is a symlink or belongs to someone else."""
        ensure_private_dir(self.root, parents=True)
        for sub in (self.media, self.outbox):
            ensure_private_dir(sub)

    def socket_bind_path(self) -> Path:
        """Where the bridge binds its socket: the data dir, or a short runtime folder when the
        data dir's path is too long for a Unix socket (then `bridge.sock` is a symlink to it)."""
        if len(os.fsencode(self.socket)) <= _MAX_SOCKET_PATH:
            return self.socket
        digest = hashlib.sha256(os.fsencode(self.root)).hexdigest()[:16]
        runtime = runtime_dir()
        try:
            ensure_private_dir(runtime)
        except UnsafeDirectory:
            # Someone else made the usual folder (squatting it): a fresh one with a random
            # name cannot have been made in advance.
            runtime = Path(tempfile.mkdtemp(prefix=f"wamcp-{os.getuid()}-"))
        return runtime / f"{digest}.sock"

    def socket_connect_path(self) -> Path:
        """The path a client connects to: the symlink's target when there is one, so the
        length limit applies to the short path."""
        try:
            return Path(os.readlink(self.socket))
        except OSError:
            return self.socket


class UnsafeDirectory(OSError):
    """A folder we would keep private data or the control socket in is not safely ours."""


def runtime_dir() -> Path:
    """The short folder for sockets: `$XDG_RUNTIME_DIR/whatsapp-mcp` where that exists (a
    per-user tmpfs the system made 0700), else `wamcp-<uid>` in the temp folder."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg) and os.path.isdir(xdg):
        return Path(xdg) / "whatsapp-mcp"
    return Path(tempfile.gettempdir()) / f"wamcp-{os.getuid()}"


def check_private_dir(path: Path) -> None:
    """Refuse `path` unless it is a real directory (not a symlink), owned by us, mode 0700.

    `lstat`, so a symlink planted by another user is seen as one and not followed."""
    try:
        st = os.lstat(path)
    except FileNotFoundError as exc:
        raise UnsafeDirectory(f"{path} does not exist.") from exc
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDirectory(
            f"{path} is not a directory (a symlink or file is there); remove it and start again."
        )
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise UnsafeDirectory(
            f"{path} belongs to uid {st.st_uid}, not to you (uid {os.getuid()}); another user "
            "may have created it. Remove it or choose another data directory."
        )
    if os.name != "nt" and stat.S_IMODE(st.st_mode) != 0o700:
        raise UnsafeDirectory(
            f"{path} has mode {stat.S_IMODE(st.st_mode):o}; it must be 700 (chmod 700 {path})."
        )


def ensure_private_dir(path: Path, *, parents: bool = False) -> None:
    """Create `path` as a 0700 directory, or tighten ours to 0700; then check it."""
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        st = os.lstat(path)
        if (
            stat.S_ISDIR(st.st_mode)
            and (not hasattr(os, "getuid") or st.st_uid == os.getuid())
            and os.name != "nt"
        ):
            os.chmod(path, 0o700)  # ours but loose: tighten it
    check_private_dir(path)


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
