"""The message store: schema, migrations, pydantic models and every SQL query.

Knows nothing of MCP, neonize or Gemini. The bridge is the only writer; MCP servers open it
read-only.
"""
