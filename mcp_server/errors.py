"""Errors a model can act on: each names the argument that was wrong and a next call that works.

- `tool_errors()` turns store and bridge failures into ToolErrors.
- `WhatsAppServer` rewrites what the SDK itself produces: its pydantic validation dumps become
  one sentence about the argument, and its `Error executing tool <name>: ` prefix is dropped
  (the host already knows which tool failed; a crash still gets a next step).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, InputRequiredResult
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bridge.control.errors import BridgeError, BridgeUnavailable
from mcp_server.lazy_tools import LazyToolsServer
from store.errors import StoreError

_PERSON_JID = re.compile(r"\b(\d{6,20})@s\.whatsapp\.net\b")


def short_jids(text: str) -> str:
    """People's JIDs in the short form the tools show and take (+15551234567)."""
    return _PERSON_JID.sub(r"+\1", text)


def store_message(exc: StoreError) -> str:
    """A store error as the model reads it; the store's messages already say what to call next."""
    return short_jids(str(exc)).replace("Use the JID of", "Use the id of")


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    try:
        yield
    except StoreError as exc:
        raise ToolError(store_message(exc)) from exc
    except BridgeUnavailable as exc:
        # Reads keep working from the store; only what needs WhatsApp waits for the bridge.
        raise ToolError(f"bridge_unavailable: {exc.message}") from exc
    except BridgeError as exc:
        raise ToolError(f"{exc.code}: {short_jids(exc.message)}") from exc


def _expected(err: ErrorDetails) -> str:
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    kind = err["type"]
    if kind == "missing":
        return "is required"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind.startswith(("datetime", "date", "timezone")):
        return "must be an ISO 8601 time like 2026-12-01T09:00:00Z"
    if kind.startswith("int") or kind.startswith("float"):
        return "must be a number"
    if kind.startswith("bool"):
        return "must be true or false"
    if kind.startswith("string"):
        return "must be text"
    if kind == "extra_forbidden":
        return "is not an argument of this tool"
    return f"is not valid ({err['msg']})"


def validation_message(tool: str, exc: ValidationError) -> str:
    """One sentence on the first wrong argument, then the way to a call that works."""
    errors = exc.errors()
    first = errors[0]
    arg = ".".join(str(p) for p in first["loc"]) or "arguments"
    more = f" ({len(errors) - 1} more argument problems)" if len(errors) > 1 else ""
    return (
        f"Argument `{arg}` {_expected(first)}{more}. Call {tool} again with `{arg}` fixed "
        "as its description says."
    )


_PREFIX = "Error executing tool "
# Arguments models mistake for others': the next call that works.
_INSTEAD = {("list_messages", "query"): "use contains= for exact text, or search_messages"}


class WhatsAppServer(LazyToolsServer):
    """MCPServer whose tool errors read as one or two sentences a model can act on."""

    async def call_tool(  # type: ignore[override]
        self, name: str, arguments: dict[str, Any], context: Any = None
    ) -> CallToolResult | InputRequiredResult:
        self.build_tools()  # the argument check below reads the tools
        unknown = self._unknown_argument(name, arguments)
        if unknown:
            raise ToolError(unknown)
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError as exc:
            raise UnexpectedToolError(
                f"{name} failed unexpectedly (details are in the server log); call get_status, "
                f"then retry {name} once."
            ) from exc
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(validation_message(name, exc.__cause__)) from exc.__cause__
            text = str(exc)
            prefix = f"{_PREFIX}{name}: "
            raise ToolError(text[len(prefix) :] if text.startswith(prefix) else text) from exc

    def _unknown_argument(self, name: str, arguments: dict[str, Any]) -> str | None:
        """The SDK ignores arguments a tool does not have; a model that passed one (a filter it
        expected) would take an unfiltered answer as filtered, so it is an error."""
        tool = self._tool_manager.get_tool(name)
        if tool is None:
            names = ", ".join(t.name for t in self._tool_manager.list_tools())
            return f"Unknown tool: {name}. Use one of: {names}."
        known: dict[str, Any] = tool.parameters.get("properties", {})
        extra = sorted(set(arguments) - set(known))
        if not extra:
            return None
        hint = _INSTEAD.get((name, extra[0]))
        args = ", ".join(known) or "none"
        return (
            f"Argument `{extra[0]}` is not an argument of {name}"
            f"{f'; {hint}' if hint else ''}. Its arguments are: {args}."
        )
