"""Which files may leave as attachments and which may be read back after a download.

Part of the contract because both sides apply the same rules: the MCP server checks a path
before asking the bridge (a fast, clear error), and the bridge checks it again before reading
the bytes itself (see `bridge.send.media_files`, which re-exports these).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from store.errors import InvalidArgument


class MediaFileError(InvalidArgument):
    """A file cannot be sent (outside the allowed folders, too big, wrong type)."""


def folder_list(
    raw: str, default: Path, setting: str, error: type[InvalidArgument] = InvalidArgument
) -> list[Path]:
    """Folders from an os.pathsep-separated setting, resolved; empty means `default`."""
    out: list[Path] = []
    for part in raw.split(os.pathsep):
        part = part.strip()
        if not part:
            continue
        p = Path(part).expanduser()
        if not p.is_absolute():
            raise error(
                f"{setting} entry {part!r} is not an absolute path; list absolute "
                f"folders separated by {os.pathsep!r}."
            )
        out.append(Path(os.path.realpath(p)))
    return out or [Path(os.path.realpath(default))]


def parse_roots(raw: str, data_dir: Path) -> list[Path]:
    """The folders files may be sent from; empty means the outbox."""
    return folder_list(raw, data_dir / "outbox", "WHATSAPP_MCP_MEDIA_ROOTS", MediaFileError)


def is_inside(path: str, root: Path) -> bool:
    root_s = str(root)
    try:
        return os.path.commonpath([path, root_s]) == root_s
    except ValueError:  # different drives on Windows
        return False


def check_outbound_path(raw: str, roots: list[Path], data_dir: Path) -> Path:
    """The real path of a file the user may send, or MediaFileError saying why not.

    A relative path is taken relative to the first allowed folder.
    """
    where = ", ".join(str(r) for r in roots)
    if not raw or not raw.strip() or "\x00" in raw:
        raise MediaFileError(f"Give the path of a file inside an allowed folder ({where}).")
    given = Path(raw.strip()).expanduser()
    if ".." in given.parts:
        raise MediaFileError(
            f"Paths containing '..' are refused ({raw!r}). Give the file's full path inside an "
            f"allowed folder ({where})."
        )
    candidate = given if given.is_absolute() else roots[0] / given
    lexical = os.path.abspath(candidate)
    real = os.path.realpath(candidate)
    if not any(is_inside(real, root) for root in roots):
        if any(is_inside(lexical, root) for root in roots):
            raise MediaFileError(
                f"{raw!r} is a symlink (or inside one) that points outside the allowed folders "
                f"({where}), to {real}. Copy the file itself into {roots[0]} instead."
            )
        raise MediaFileError(
            f"{raw!r} is not inside an allowed folder. Files can be sent only from: {where}. "
            f"Copy the file into {roots[0]}, or add its folder to WHATSAPP_MCP_MEDIA_ROOTS."
        )
    refuse_private(real, data_dir, raw)
    try:
        st = os.stat(real)
    except FileNotFoundError as exc:
        raise MediaFileError(f"No file at {real}. Check the name (list the folder first).") from exc
    except OSError as exc:
        raise MediaFileError(f"Cannot read {real}: {exc.strerror}.") from exc
    if not stat.S_ISREG(st.st_mode):
        raise MediaFileError(f"{real} is not a regular file.")
    return Path(real)


def media_path_for_reading(path: str, media_root: Path) -> Path:
    """`path` (as the bridge reported it) if it really lies under the media folder."""
    real = os.path.realpath(path)
    if not is_inside(real, Path(os.path.realpath(media_root))):
        raise MediaFileError(f"{path} is not inside the media folder; refusing to read it.")
    return Path(real)


def refuse_private(real: str, data_dir: Path, raw: str) -> None:
    """Refuse a real path inside the data directory's private part (all but outbox/, media/)."""
    data_real = os.path.realpath(data_dir)
    if is_inside(real, Path(data_real)) and not any(
        is_inside(real, Path(os.path.realpath(data_dir / sub))) for sub in ("outbox", "media")
    ):
        raise MediaFileError(
            f"{raw!r} is part of whatsapp-mcp's own data (the message store or the WhatsApp "
            "session), which is never sent. Only files in outbox/ and media/ of the data "
            "folder can be sent."
        )
