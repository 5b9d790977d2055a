"""The control API the MCP server talks to: a Starlette app on uvicorn over a socket bound here
(0600), a token guard checked before any body is read, and one route module per domain."""
