"""An MCPServer that builds its tools, prompts and resources on the first request that needs
them, not at start-up.

Building them means importing the tool modules (and through them the store's readers and the
bridge's wire models) and generating the JSON schemas of every argument and result with
pydantic: well over 100 ms on a loaded 2-core machine, more than everything else the server
adds to the SDK's own start-up. `initialize` needs none of it (its answer lists capabilities,
which the SDK derives from handlers, not from registered tools), so registration is recorded
and replayed, in order, on the first tools, prompts or resources request. A host's first
`tools/list` pays that cost once; the answer to `initialize` does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, GetPromptResult, Icon, InputRequiredResult, ToolAnnotations
from mcp.types import Prompt as MCPPrompt
from mcp.types import Resource as MCPResource
from mcp.types import ResourceTemplate as MCPResourceTemplate
from mcp.types import Tool as MCPTool
from pydantic import AnyUrl


class LazyToolsServer(MCPServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pending: list[Callable[[], None]] = []
        self._built = False
        super().__init__(*args, **kwargs)

    def add_tool(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        icons: list[Icon] | None = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
    ) -> None:
        def add() -> None:
            super(LazyToolsServer, self).add_tool(
                fn,
                name=name,
                title=title,
                description=description,
                annotations=annotations,
                icons=icons,
                meta=meta,
                structured_output=structured_output,
            )

        self.after_tools(add)

    def remove_tool(self, name: str) -> None:
        def remove() -> None:
            super(LazyToolsServer, self).remove_tool(name)

        self.after_tools(remove)

    def after_tools(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the tools are built (at once if they are)."""
        if self._built:
            fn()
        else:
            self._pending.append(fn)

    def build_tools(self) -> None:
        """Replay the recorded registrations, in order (idempotent)."""
        self._built = True
        while self._pending:
            self._pending.pop(0)()

    async def list_tools(self) -> list[MCPTool]:
        self.build_tools()
        return await super().list_tools()

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        self.build_tools()
        return await super().call_tool(name, arguments, context)

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        # The SDK reads the schema before `call_tool` to validate the arguments.
        self.build_tools()
        return super()._tool_input_schema(name)

    async def list_prompts(self) -> list[MCPPrompt]:
        self.build_tools()
        return await super().list_prompts()

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[Any, Any] | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        self.build_tools()
        return await super().get_prompt(name, arguments, context)

    async def list_resources(self) -> list[MCPResource]:
        self.build_tools()
        return await super().list_resources()

    async def list_resource_templates(self) -> list[MCPResourceTemplate]:
        self.build_tools()
        return await super().list_resource_templates()

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        self.build_tools()
        return await super().read_resource(uri, context)
