"""The error a control-API handler raises to answer with a status and a JSON error body."""

from __future__ import annotations

import json


class HttpError(Exception):
    """An HTTP-level failure with the status and JSON error body to answer with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> bytes:
        return json.dumps({"error": {"code": self.code, "message": self.message}}).encode()
