"""Files that go out as attachments and files that come in as downloads.

Outbound: a file may be sent only when its real path (symlinks resolved) lies inside one of the
allowed folders (`WHATSAPP_MCP_MEDIA_ROOTS`, default `<data dir>/outbox/`). Paths with `..` are
refused outright, and nothing inside the data directory is ever sent except from `outbox/` and
`media/`, so a root set too wide (your home folder) still cannot send `session.db` (the Signal
keys) or `messages.db`. The MCP server checks a path before asking the bridge (a fast, clear
error), and the bridge checks it again and reads the bytes itself: the control API never
carries file contents, so no caller can make the bridge send bytes from anywhere.

Inbound: downloads are written only under `<data dir>/media/<chat>/`, with names built from the
message id (never from anything a sender chose, apart from a sanitised document name).

Size limits are WhatsApp's published media limits (WhatsApp Business Platform "supported media
types"): images 5 MB, video/audio/voice 16 MB, stickers 500 KB, documents 100 MB. The phone
apps accept more for documents (up to 2 GB); these are the conservative, documented numbers.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import mimetypes
import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bridge.control.media_paths import MediaFileError as MediaFileError
from bridge.control.media_paths import check_outbound_path as check_outbound_path
from bridge.control.media_paths import is_inside, refuse_private
from bridge.control.media_paths import media_path_for_reading as media_path_for_reading
from bridge.control.media_paths import parse_roots as parse_roots
from store.models import MessageKind

MB = 1_000_000
SIZE_LIMITS: dict[MessageKind, int] = {
    MessageKind.image: 5 * MB,
    MessageKind.video: 16 * MB,
    MessageKind.audio: 16 * MB,
    MessageKind.voice: 16 * MB,
    MessageKind.sticker: 500_000,
    MessageKind.document: 100 * MB,
}
VOICE_MIME = "audio/ogg; codecs=opus"
FFMPEG_ADVICE = (
    "Voice notes must be OGG/Opus, and converting this file needs ffmpeg, which is not "
    "installed. Install it (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install "
    "ffmpeg; Windows: winget install ffmpeg), restart whatsapp-mcp, and try again; or send the "
    "file without as_voice_note."
)
_FFMPEG_TIMEOUT = 120.0
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


@dataclass(frozen=True)
class OutgoingFile:
    """A file read from an allowed folder, ready to upload."""

    path: Path
    data: bytes
    kind: MessageKind
    mime_type: str
    filename: str


# ---------------------------------------------------------------- allowed folders


# ---------------------------------------------------------------- kinds and limits


def sniff_image(head: bytes) -> str | None:
    """The MIME type of a JPEG, PNG or WEBP image from its first bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def is_ogg_opus(head: bytes) -> bool:
    return head.startswith(b"OggS") and b"OpusHead" in head[:128]


def classify(filename: str, head: bytes, *, as_voice_note: bool) -> tuple[MessageKind, str]:
    """(kind, MIME type) of a file, from its content first and its name second."""
    guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if as_voice_note:
        if not (guessed.startswith("audio/") or is_ogg_opus(head)):
            raise MediaFileError(
                f"{filename!r} does not look like audio ({guessed}); only audio files can be "
                "sent as a voice note."
            )
        return MessageKind.voice, VOICE_MIME
    image = sniff_image(head)
    if image is not None:
        return MessageKind.image, image
    if guessed.startswith("video/"):
        return MessageKind.video, guessed
    if guessed.startswith("audio/"):
        return MessageKind.audio, guessed
    # Anything else, including a file named .jpg that is not an image, goes as a document.
    return MessageKind.document, guessed


def check_size(kind: MessageKind, size: int, name: str) -> None:
    limit = SIZE_LIMITS[kind]
    if size == 0:
        raise MediaFileError(f"{name} is empty.")
    if size > limit:
        hint = ""
        if kind is not MessageKind.document:
            hint = " Make it smaller, or put it in a .zip to send it as a document."
        raise MediaFileError(
            f"{name} is {size / MB:.1f} MB; WhatsApp accepts {kind.value} files of at most "
            f"{limit / MB:g} MB.{hint}"
        )


def _fd_path(fd: int) -> str | None:
    """The real path of an open file, from the OS (Linux /proc, macOS F_GETPATH)."""
    proc_link = f"/proc/self/fd/{fd}"
    if os.path.exists(proc_link):
        return os.path.realpath(proc_link)
    if os.name == "nt":  # pragma: no cover - Windows keeps no symlink games for us to check
        return None
    import fcntl

    getpath = getattr(fcntl, "F_GETPATH", None)  # macOS
    if getpath is None:  # pragma: no cover
        return None
    raw = fcntl.fcntl(fd, getpath, b"\0" * 1024)
    return os.path.realpath(raw.rstrip(b"\0").decode("utf-8", "surrogateescape"))


def _open_checked(real: Path, roots: list[Path], data_dir: Path | None = None) -> int:
    """Open `real` without following a symlink swapped in after the check, then judge the file
    actually opened: a regular file, with no other hard link (a link in outbox/ to session.db
    would pass every path check), whose real path is still inside the allowed folders and not
    in the data directory's private part."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise MediaFileError(f"Cannot open {real}: {exc.strerror}.") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise MediaFileError(f"{real} is not a regular file.")
        if st.st_nlink > 1:
            raise MediaFileError(
                f"{real} has {st.st_nlink} hard links, so it may be another file under a second "
                f"name; refused. Copy the file (cp, not ln) into {roots[0]} instead."
            )
        # A folder on the way may have been replaced since the check: judge the opened file.
        opened = _fd_path(fd)
        if opened is not None:
            if not any(is_inside(opened, root) for root in roots):
                raise MediaFileError(f"{real} moved outside the allowed folders; refused.")
            if data_dir is not None:
                refuse_private(opened, data_dir, str(real))
    except BaseException:
        os.close(fd)
        raise
    return fd


def load_outgoing(
    raw: str, roots: list[Path], data_dir: Path, *, as_voice_note: bool = False
) -> OutgoingFile:
    """Check, read and classify a file to send; voice notes are converted to OGG/Opus."""
    real = check_outbound_path(raw, roots, data_dir)
    with os.fdopen(_open_checked(real, roots, data_dir), "rb") as fh:
        head = fh.read(4096)
        kind, mime = classify(real.name, head, as_voice_note=as_voice_note)
        check_size(kind, os.fstat(fh.fileno()).st_size, real.name)
        # Read at most one byte past the limit: a file growing meanwhile is still caught.
        data = head + fh.read(SIZE_LIMITS[kind] + 1 - len(head))
    check_size(kind, len(data), real.name)
    filename = real.name
    if kind is MessageKind.voice and not is_ogg_opus(head):
        data = to_ogg_opus(data, real.suffix)
        check_size(kind, len(data), real.name)
        filename = f"{real.stem}.ogg"
    return OutgoingFile(path=real, data=data, kind=kind, mime_type=mime, filename=filename)


def to_ogg_opus(data: bytes, suffix: str) -> bytes:
    """Convert audio to a mono OGG/Opus voice note with ffmpeg (WhatsApp's voice format)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise MediaFileError(FFMPEG_ADVICE)
    with tempfile.TemporaryDirectory(prefix="wamcp-voice-") as tmp:
        safe_suffix = suffix if _SUFFIX.fullmatch(suffix) else ""
        src = Path(tmp) / f"in{safe_suffix}"
        dst = Path(tmp) / "out.ogg"
        src.write_bytes(data)
        cmd = [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-vn"]
        cmd += ["-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "32k", str(dst)]
        try:
            done = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # stdout belongs to the protocol
                stderr=subprocess.PIPE,
                timeout=_FFMPEG_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise MediaFileError("ffmpeg took too long to convert the voice note.") from exc
        if done.returncode != 0 or not dst.exists():
            err = done.stderr.decode("utf-8", "replace").strip()[-300:]
            raise MediaFileError(f"ffmpeg could not convert the file to a voice note: {err}")
        return dst.read_bytes()


# ---------------------------------------------------------------- downloads

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_part(text: str, limit: int = 80) -> str:
    cleaned = _SAFE.sub("_", text).strip("._")[:limit]
    return cleaned or "x"


def _extension(mime_type: str | None, filename: str | None) -> str:
    if filename:
        suffix = Path(filename).suffix
        if _SUFFIX.fullmatch(suffix):
            return suffix.lower()
    base = (mime_type or "").split(";", 1)[0].strip().lower()
    if base == "audio/ogg":
        return ".ogg"
    if base == "image/jpeg":
        return ".jpg"
    return mimetypes.guess_extension(base) or ".bin"


def download_path(
    media_root: Path,
    chat_jid: str,
    message_id: str,
    mime_type: str | None,
    filename: str | None,
) -> Path:
    """Where an attachment is saved: `media/<chat>/<message id>-<key>[-<document name>]<ext>`.

    Cleaning the chat and the id for a file name can map two of them to one name ("A/B" and
    "A_B"); `key`, a hash of the exact (chat, message id), keeps every message's file its own.
    """
    folder = media_root / _safe_part(chat_jid.replace("@", "_at_"))
    key = hashlib.sha256(f"{chat_jid}\0{message_id}".encode()).hexdigest()[:12]
    stem = f"{_safe_part(message_id)}-{key}"
    if filename:
        stem = f"{stem}-{_safe_part(Path(filename).stem, 60)}"
    target = folder / f"{stem}{_extension(mime_type, filename)}"
    root_real = os.path.realpath(media_root)
    if not is_inside(os.path.realpath(target), Path(root_real)):  # defence in depth
        raise MediaFileError("Refusing to write a download outside the media folder.")
    return target


def cached_download(target: Path, size: int | None, sha256_b64: str | None) -> tuple[bool, int]:
    """(whether `target` already holds this attachment, its size). With WhatsApp's SHA-256 of
    the file known, the bytes must hash to it; otherwise the size must match."""
    try:
        with open(target, "rb") as fh:
            st = os.fstat(fh.fileno())
            if size is not None and st.st_size != size:
                return False, 0
            if sha256_b64:
                h = hashlib.sha256()
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
                digest = h.digest()
                try:
                    want = base64.b64decode(sha256_b64, validate=True)
                except ValueError:
                    return False, 0
                if not hmac.compare_digest(digest, want):
                    return False, 0
            return True, st.st_size
    except OSError:
        return False, 0


def save_download(target: Path, data: bytes) -> None:
    """Write a downloaded attachment atomically, private to the user (0700 folder, 0600 file)."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
