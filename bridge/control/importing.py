"""Wire models and path rules for importing "Export chat" files and the import's progress.

The import folder works like send_file's outbox: the tool may name only files inside an allowed
folder (`WHATSAPP_MCP_IMPORT_ROOTS`, default `<data dir>/imports/`). The server checks first for a
quick error and the bridge checks again before it opens anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.control.media_paths import folder_list, is_inside
from store.chat_export.run import BadLineReport, ImportReport
from store.errors import InvalidArgument

if TYPE_CHECKING:
    from bridge.control.client import ControlClient

# A 300k-message export takes seconds; a slow disk or a huge zip of media longer.
IMPORT_TIMEOUT = 600.0

__all__ = [
    "BadLineReport",
    "ImportProgress",
    "ImportProgressRequest",
    "ImportReport",
    "ImportRequest",
    "check_import_path",
    "import_roots",
]

IMPORT_SUFFIXES = (".txt", ".zip", ".jsonl")


class ImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=4096)
    chat: str | None = Field(default=None, max_length=200)
    my_name: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    date_order: Literal["dmy", "mdy", "ymd"] | None = None
    job: str | None = Field(
        default=None, max_length=64, description="Caller's id for polling /api/import/progress."
    )


class ImportProgressRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job: str = Field(min_length=1, max_length=64)


class ImportProgress(BaseModel):
    job: str
    stage: Literal["pending", "parsing", "writing", "done", "failed"]
    done: int = 0
    total: int = 0


def import_roots(raw: str, data_dir: Path) -> list[Path]:
    """The allowed import folders, resolved; empty means `<data dir>/imports`."""
    return folder_list(raw, data_dir / "imports", "WHATSAPP_MCP_IMPORT_ROOTS")


def check_import_path(raw: str, roots: list[Path]) -> Path:
    """The real path of an export the caller may import, or InvalidArgument saying why not.
    A relative path is taken inside the first allowed folder."""
    where = ", ".join(str(r) for r in roots)
    if not raw.strip() or "\x00" in raw:
        raise InvalidArgument(f"path: give an export file inside the import folder ({where}).")
    given = Path(raw.strip()).expanduser()
    if ".." in given.parts:
        raise InvalidArgument(
            f"path {raw!r} contains '..'; give the export's full path inside the import folder "
            f"({where})."
        )
    real = os.path.realpath(given if given.is_absolute() else roots[0] / given)
    if not any(is_inside(real, root) for root in roots):
        raise InvalidArgument(
            f"path {raw!r} is outside the import folder. Exports can be imported only from: "
            f"{where}. Copy the .txt or .zip into {roots[0]} and call import_chat_export with "
            "its file name, or add the folder to WHATSAPP_MCP_IMPORT_ROOTS."
        )
    if not os.path.isfile(real):
        raise InvalidArgument(
            f"path {raw!r}: no such file in the import folder ({where}). Put the phone's "
            f"export (.txt or .zip) into {roots[0]} first."
        )
    if not real.lower().endswith(IMPORT_SUFFIXES):
        raise InvalidArgument(
            f"path {raw!r} is not a chat export: give the .txt or .zip the phone's Export chat "
            "made, or a .jsonl written by `whatsapp-mcp export --format jsonl`."
        )
    return Path(real)


async def import_via_bridge(client: ControlClient, req: ImportRequest) -> ImportReport:
    """POST /api/import: the one typed call for the import endpoint."""
    return await client.call("POST", "/api/import", ImportReport, req, timeout=IMPORT_TIMEOUT)


async def import_progress(client: ControlClient, job: str) -> ImportProgress:
    """POST /api/import/progress for a job started with `import_via_bridge`."""
    return await client.call(
        "POST", "/api/import/progress", ImportProgress, ImportProgressRequest(job=job), timeout=5
    )
