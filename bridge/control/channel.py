"""Whether the control socket can be trusted before the token is sent to it.

The token is the key to the user's WhatsApp, so the client sends it only to a socket that:
the bridge's singleton lock is held (a socket left by a dead bridge, or planted by someone,
is not served by a live bridge of ours); lives in a folder that is ours and 0700 (checked with
`lstat`, a symlinked folder is refused); is itself a socket owned by us; and whose listening
process runs as us (SO_PEERCRED on Linux; elsewhere the owner checks stand alone).
"""

from __future__ import annotations

import os
import socket
import stat
import struct
from pathlib import Path

from bridge.control.lockfile import lock_is_held
from bridge.paths import DataPaths, UnsafeDirectory, check_private_dir


class ChannelUntrusted(Exception):
    """The control socket is missing or not provably the user's own bridge."""


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process on the other end of a connected Unix socket, where the OS says."""
    if hasattr(socket, "SO_PEERCRED"):
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return uid
    return None


def check_peer(path: Path) -> None:
    """Connect once and ask the kernel who is listening: it must be us."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2.0)
        try:
            probe.connect(str(path))
        except OSError as exc:
            raise ChannelUntrusted(f"The bridge is not running ({exc}).") from exc
        uid = peer_uid(probe)
    if uid is not None and uid != os.getuid():
        raise ChannelUntrusted(
            f"The process listening on {path} runs as uid {uid}, not as you: refusing to "
            "send it the token. Stop it, remove the socket, and start the bridge again."
        )


def trusted_socket(paths: DataPaths) -> Path:
    """The socket path to connect to, once it passed every check above."""
    if not lock_is_held(paths.lock):
        raise ChannelUntrusted(
            f"No bridge holds {paths.lock}, so nothing trustworthy serves the control socket."
        )
    path = paths.socket_connect_path()
    try:
        check_private_dir(path.parent)
        st = os.lstat(path)
    except UnsafeDirectory as exc:
        raise ChannelUntrusted(f"The control socket's folder is not safe: {exc}") from exc
    except OSError as exc:
        raise ChannelUntrusted(f"The bridge is not running (no socket: {exc}).") from exc
    if not stat.S_ISSOCK(st.st_mode):
        raise ChannelUntrusted(f"{path} is not a socket; refusing to connect.")
    if st.st_uid != os.getuid():
        raise ChannelUntrusted(
            f"{path} belongs to uid {st.st_uid}, not to you; refusing to send it the token."
        )
    check_peer(path)
    return path
