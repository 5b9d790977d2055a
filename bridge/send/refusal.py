"""The refusal a send check returns: shared by the content checks and the recipient policy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Refusal(BaseModel):
    """Why a send may not happen: a stable code and a message a user can act on."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
