"""Smaller tool definitions: every host sends all of them to the model on every turn.

pydantic's JSON schemas carry a `title` for every property and model; input schemas lose
those (they keep descriptions, defaults, enums and number bounds: those guide the model's
calls). Top-level string arguments lose `minLength`/`maxLength` as well: they are safety caps
(200 characters for a name or id, 65,536 for a text) no call comes near, and the server still
enforces every one, answering an argument error that names the argument.

Output schemas are published flat: the top-level field names, without types or `required`.
They are a contract for clients more than text for the model (which reads the results), nested
ones break some hosts, and every result is still checked in full (the SDK validates it against
the pydantic model).
Typed output fields, `required` and the string bounds made up 4.9 KB of the 27 tools'
definitions (benchmarks/README.md has the total).
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

_INPUT_DROP = frozenset({"title"})
_STRING_BOUNDS = ("minLength", "maxLength")


def compact_schema(node: Any, drop: frozenset[str]) -> Any:
    if isinstance(node, list):
        return [compact_schema(x, drop) for x in node]  # pyright: ignore[reportUnknownVariableType]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():  # pyright: ignore[reportUnknownVariableType]
        if key == "properties" and isinstance(value, dict):
            # Keys here are field names (a field may be called "title"): keep them all.
            out[key] = {
                name: compact_schema(sub, drop)
                for name, sub in value.items()  # pyright: ignore[reportUnknownVariableType]
            }
        elif key not in drop:
            out[str(key)] = compact_schema(value, drop)  # pyright: ignore[reportUnknownArgumentType]
    return out


def optional_as_omittable(schema: dict[str, Any]) -> dict[str, Any]:
    """`{"anyOf": [X, {"type": "null"}], "default": null}` → `X` for top-level arguments: an
    optional argument is one to leave out, which the description says; the server still
    accepts an explicit null."""
    props: dict[str, Any] = schema.get("properties", {})
    for name, prop in list(props.items()):
        options = prop.get("anyOf")
        if not isinstance(options, list) or prop.get("default", 0) is not None:
            continue
        kept = [o for o in options if o != {"type": "null"}]  # pyright: ignore[reportUnknownVariableType]
        if len(kept) == 1 and len(options) == 2:  # pyright: ignore[reportUnknownArgumentType]
            rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
            props[name] = {**kept[0], **rest}
    return schema


def without_string_bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """Top-level string arguments without `minLength`/`maxLength` (see the module docstring)."""
    props: dict[str, Any] = schema.get("properties", {})
    for prop in props.values():
        if prop.get("type") == "string":
            for key in _STRING_BOUNDS:
                prop.pop(key, None)
    return schema


def flat_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The top-level field names only (see the module docstring)."""
    props: dict[str, Any] = schema.get("properties", {})
    return {"type": "object", "properties": {name: {} for name in props}}


def compact_tool_schemas(server: MCPServer) -> None:
    """Rewrite every registered tool's published schemas (and description spacing) in place."""
    for tool in server._tool_manager.list_tools():  # pyright: ignore[reportPrivateUsage]
        if tool.description:
            tool.description = " ".join(tool.description.split())
        params = optional_as_omittable(compact_schema(tool.parameters, _INPUT_DROP))
        tool.parameters = without_string_bounds(params)
        meta = tool.fn_metadata
        if meta.output_schema is not None:
            meta.output_schema = flat_output_schema(meta.output_schema)
