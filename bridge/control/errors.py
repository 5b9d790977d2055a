"""The errors a bridge call raises, in a module of their own: the MCP server maps them to tool
errors at start-up without importing the client and its wire models (cold start)."""

from __future__ import annotations


class BridgeError(Exception):
    """The bridge answered with an error; `code` is machine-readable, the message is for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class BridgeUnavailable(BridgeError):
    """No bridge answers on the control socket."""

    def __init__(self, message: str) -> None:
        super().__init__(503, "bridge_unavailable", message)
