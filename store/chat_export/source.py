"""Opening an export file: a `.txt`, a `.zip` from the phone (chat text plus media), or our own
`.jsonl` export. Media files in a zip are linked by name; only the base name is ever used for the
extracted copy, so a crafted member name cannot write outside the media folder."""

from __future__ import annotations

import mimetypes
import os
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from store.chat_export.load import MediaFile
from store.errors import InvalidArgument

MAX_TEXT_BYTES = 512 * 1024 * 1024
# WhatsApp's own limit for a shared file; a bigger member is not a real attachment (or a bomb).
MAX_MEDIA_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(slots=True)
class ExportFile:
    path: Path
    kind: str  # "chat" (phone text) or "jsonl"
    text: str
    # base name → zip member (or file beside the .txt)
    media: dict[str, str] = field(default_factory=lambda: dict[str, str]())
    archive: Path | None = None


def zone(name: str | None) -> tzinfo:
    """The time zone the phone showed the export's times in; default: this machine's."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidArgument(
                f"Unknown timezone {name!r}: give an IANA name such as 'Europe/Berlin', "
                "'America/Sao_Paulo' or 'UTC'."
            ) from exc
    tz_env = os.environ.get("TZ", "").lstrip(":")
    if tz_env:
        try:
            return ZoneInfo(tz_env)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    except OSError:
        return datetime.now().astimezone().tzinfo or ZoneInfo("UTC")


def _decode(data: bytes) -> str:
    return data.decode("utf-8-sig", "replace")


def open_export(path: Path) -> ExportFile:
    """Read the chat text out of `path` and index the media it ships with."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InvalidArgument(f"{path.name} is not a readable .zip export ({exc}).") from exc
        with zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            texts = [n for n in names if n.lower().endswith(".txt")]
            chat = next((n for n in texts if PurePosixPath(n).name == "_chat.txt"), None)
            chat = chat or (texts[0] if len(texts) == 1 else None)
            chat = chat or next((n for n in texts if "whatsapp" in n.lower()), None)
            if chat is None:
                raise InvalidArgument(
                    f"{path.name} holds no chat text (.txt); export the chat again from the "
                    "phone (More → Export chat)."
                )
            if zf.getinfo(chat).file_size > MAX_TEXT_BYTES:
                raise InvalidArgument(f"The chat text in {path.name} is too large to import.")
            text = _decode(zf.read(chat))
            media = {PurePosixPath(n).name: n for n in names if n != chat}
        return ExportFile(path=path, kind="chat", text=text, media=media, archive=path)
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise InvalidArgument(f"{path.name} is too large to import.")
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidArgument(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    kind = "jsonl" if suffix in (".jsonl", ".ndjson") else "chat"
    media: dict[str, str] = {}
    if kind == "chat":
        # An unzipped export: the media sit beside the text (or in media/).
        for folder in (path.parent, path.parent / "media"):
            if folder.is_dir():
                for f in folder.iterdir():
                    if f.is_file() and f != path:
                        media.setdefault(f.name, str(f))
    return ExportFile(path=path, kind=kind, text=_decode(data), media=media)


def media_linker(export: ExportFile, target_dir: Path) -> MediaLinker:
    return MediaLinker(export, target_dir)


class MediaLinker:
    """Finds a message's attachment in the export and copies it under the media folder."""

    def __init__(self, export: ExportFile, target_dir: Path) -> None:
        self.export = export
        self.target_dir = target_dir
        self._zip: zipfile.ZipFile | None = None

    def __call__(self, filename: str) -> MediaFile | None:
        member = self.export.media.get(PurePosixPath(filename.replace("\\", "/")).name)
        if member is None:
            return None
        safe = PurePosixPath(member).name
        if safe in ("", ".", ".."):
            return None
        self.target_dir.mkdir(parents=True, exist_ok=True)
        target = self.target_dir / safe
        if self.export.archive is not None:
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.export.archive)
            if self._zip.getinfo(member).file_size > MAX_MEDIA_BYTES:
                return None
            if not target.exists() or target.stat().st_size != self._zip.getinfo(member).file_size:
                tmp = target.with_name(target.name + ".part")
                with self._zip.open(member) as src, open(tmp, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                os.chmod(tmp, 0o600)
                os.replace(tmp, target)
            local = target
        else:
            local = Path(member)
        mime = mimetypes.guess_type(safe)[0]
        if safe.lower().endswith(".opus"):
            mime = "audio/ogg; codecs=opus"
        return MediaFile(local_path=str(local), size=local.stat().st_size, mime_type=mime)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None
