"""Turns store and bridge failures into ToolErrors a model can act on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from mcp.server.mcpserver.exceptions import ToolError

from bridge.control.client import BridgeError, BridgeUnavailable
from store.errors import Ambiguous, StoreError


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    try:
        yield
    except Ambiguous as exc:
        raise ToolError(f"{exc} Pass the JID of the one you mean.") from exc
    except StoreError as exc:
        raise ToolError(str(exc)) from exc
    except BridgeUnavailable as exc:
        raise ToolError(f"bridge_unavailable: {exc.message}") from exc
    except BridgeError as exc:
        raise ToolError(f"{exc.code}: {exc.message}") from exc
