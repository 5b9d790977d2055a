"""Who owns the bridge's life: a service manager, or the MCP servers that spawn it.

Two small files in the data dir carry it, so every process sees the same answer without asking
a bridge that may not be running:

- `service.json`, written by `whatsapp-mcp service install`: a service manager (systemd, launchd,
  Task Scheduler) runs the bridge. Servers then attach to it and never start or stop it;
- `bridge.stopped`, written by `whatsapp-mcp stop`: the user stopped a server-started bridge.
  Attached servers do not restart it when their event stream drops; the next tool call that
  needs the bridge clears the mark and starts it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bridge.paths import DataPaths, write_private

Manager = Literal["systemd", "launchd", "schtasks"]


class ServiceRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    manager: Manager
    unit_path: str
    stop_command: str


def service_file(paths: DataPaths) -> Path:
    return paths.root / "service.json"


def stopped_file(paths: DataPaths) -> Path:
    return paths.root / "bridge.stopped"


def service_record(paths: DataPaths) -> ServiceRecord | None:
    """The installed service for this data dir, or None (a damaged record counts as none)."""
    try:
        return ServiceRecord.model_validate_json(service_file(paths).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def write_service_record(paths: DataPaths, record: ServiceRecord) -> None:
    paths.ensure()
    write_private(service_file(paths), record.model_dump_json(indent=2))


def remove_service_record(paths: DataPaths) -> None:
    service_file(paths).unlink(missing_ok=True)


def mark_user_stopped(paths: DataPaths) -> None:
    if paths.root.is_dir():
        write_private(stopped_file(paths), f"{os.getpid()}\n")


def user_stopped(paths: DataPaths) -> bool:
    return stopped_file(paths).exists()


def clear_user_stopped(paths: DataPaths) -> None:
    stopped_file(paths).unlink(missing_ok=True)
