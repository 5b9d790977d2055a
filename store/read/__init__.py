"""Reads of the store, split by aggregate: chats, messages, search and contacts (the MCP server's
read-only `StoreReader` is assembled from them in `store/reader.py`)."""
