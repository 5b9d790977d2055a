"""The MCP tools, one module per family (read, send, media, live, auto-reply, schedule, admin, sim),
registered on the first tools request (`mcp_server/lazy_tools.py`)."""
