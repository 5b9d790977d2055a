"""The stdio MCP server: thin tools over the read-only store and the bridge's control API."""
