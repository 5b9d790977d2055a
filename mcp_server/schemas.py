"""Smaller tool definitions: every host sends all of them to the model on every turn.

pydantic's JSON schemas carry a `title` for every property and model; input schemas lose
those (they keep descriptions and defaults: those guide the model's calls). Output schemas
are published flat: each top-level field with its JSON type, nested objects and arrays as
`object`/`array`. That is what hosts handle well (nested output schemas break some), it is
still true of every result (the SDK validates results against the full pydantic model), and
it keeps 18 tools' definitions near 15 KB instead of 50 KB.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

_INPUT_DROP = frozenset({"title"})


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


def _json_type(prop: dict[str, Any], defs: dict[str, Any]) -> Any:
    ref = prop.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.rsplit("/", 1)[-1], {})
        return target.get("type", "object")
    options = prop.get("anyOf")
    if isinstance(options, list):
        types: list[Any] = []
        for option in options:  # pyright: ignore[reportUnknownVariableType]
            t = _json_type(option, defs)  # pyright: ignore[reportUnknownArgumentType]
            for one in t if isinstance(t, list) else [t]:  # pyright: ignore[reportUnknownVariableType]
                if one not in types:
                    types.append(one)
        return types[0] if len(types) == 1 else types
    if "const" in prop and "type" not in prop:
        return "string"
    return prop.get("type", "object")


def flat_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Top-level fields and their JSON types only (see the module docstring)."""
    defs: dict[str, Any] = schema.get("$defs", {})
    props: dict[str, Any] = schema.get("properties", {})
    out: dict[str, Any] = {
        "type": "object",
        "properties": {name: {"type": _json_type(p, defs)} for name, p in props.items()},
    }
    if schema.get("required"):
        out["required"] = schema["required"]
    return out


def compact_tool_schemas(server: MCPServer) -> None:
    """Rewrite every registered tool's published schemas (and description spacing) in place."""
    for tool in server._tool_manager.list_tools():  # pyright: ignore[reportPrivateUsage]
        if tool.description:
            tool.description = " ".join(tool.description.split())
        tool.parameters = optional_as_omittable(compact_schema(tool.parameters, _INPUT_DROP))
        meta = tool.fn_metadata
        if meta.output_schema is not None:
            meta.output_schema = flat_output_schema(meta.output_schema)
