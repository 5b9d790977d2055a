"""The contract between the MCP server and the bridge: wire models, the typed `ControlClient` over
the 0600 socket, errors and exit codes. The only part of `bridge` that `mcp_server` imports,
besides `bridge.settings` and `bridge.paths` (enforced by tests/test_architecture.py)."""
