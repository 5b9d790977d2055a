"""`whatsapp-mcp demo`: a guided tour that drives the real server with a real MCP client.

It starts `whatsapp-mcp serve --simulate` over stdio (as Claude Desktop would), calls each tool,
and prints what comes back. Nothing touches a real WhatsApp account.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _show(title: str, payload: Any, max_lines: int = 14) -> None:
    _say(f"\n== {title}")
    text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    lines = text.splitlines()
    for line in lines[:max_lines]:
        _say("   " + line)
    if len(lines) > max_lines:
        _say(f"   … ({len(lines) - max_lines} more lines)")


async def _call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    if result.is_error:
        text = " ".join(getattr(c, "text", "") for c in result.content)
        return {"error": text}
    return dict(result.structured_content or {})


async def _tour(data_dir: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server", "serve", "--simulate"],
        env={
            "WHATSAPP_MCP_DATA_DIR": str(data_dir),
            "WHATSAPP_MCP_SIMULATE_REPLY_DELAY": "1.0",
            "WHATSAPP_MCP_BRIDGE_IDLE_EXIT": "5",
            "WHATSAPP_MCP_LOG_LEVEL": "WARNING",
        },
    )
    async with Client(params, read_timeout_seconds=60) as client:
        tools = [t.name for t in (await client.list_tools()).tools]
        _say(f"Connected over stdio. {len(tools)} tools: {', '.join(tools)}")

        status = await _call(client, "get_status", {})
        _show("get_status", status)

        chats = await _call(client, "list_chats", {"limit": 5})
        _show(
            "list_chats (5 most recent)",
            [
                {
                    "name": c.get("name"),
                    "chat": c["chat"],
                    "unread": c.get("unread", 0),
                    "last": c.get("preview"),
                }
                for c in chats.get("items", [])
            ],
            max_lines=40,
        )

        hits = await _call(client, "search_messages", {"query": "dinner", "limit": 3})
        _show(
            "search_messages 'dinner'",
            [
                {"chat": h.get("chat_name", h["chat"]), "snippet": h["snippet"]}
                for h in hits.get("items", [])
            ],
            max_lines=20,
        )

        direct = [c for c in chats.get("items", []) if not c.get("group")]
        if direct:
            peer = direct[0]
            sent = await _call(
                client,
                "send_message",
                {"to": peer["chat"], "text": "Hi! Trying out my new assistant."},
            )
            _show(f"send_message to {peer.get('name', peer['chat'])}", sent)
            _say("   (waiting for the simulated peer to answer…)")
            await asyncio.sleep(2.0)
            msgs = await _call(client, "list_messages", {"chat": peer["chat"], "limit": 3})
            _show(
                "list_messages (newest 3)",
                [
                    {
                        "from": "me" if m.get("from_me") else m.get("sender_name", m.get("sender")),
                        "text": m.get("text", ""),
                    }
                    for m in msgs.get("items", [])
                ],
                max_lines=20,
            )

        got = await _call(
            client,
            "simulate_incoming_message",
            {"sender": "+44 7700 900123", "text": "Hello, is the flat still available?"},
        )
        _show("simulate_incoming_message from a new number", got, max_lines=10)
        found = await _call(client, "search_messages", {"query": "flat available"})
        _show("search_messages 'flat available'", [h["snippet"] for h in found.get("items", [])])
    _say(
        "\n"
        + textwrap.fill(
            "That was a real MCP session against a simulated WhatsApp. To use your own account, "
            "pair once (see README) and add the server to Claude Desktop.",
            90,
        )
    )


def run_demo(data_dir: str | None = None) -> int:
    if data_dir:
        asyncio.run(_tour(Path(data_dir)))
        return 0
    with tempfile.TemporaryDirectory(prefix="wamcp-demo-") as tmp:
        asyncio.run(_tour(Path(tmp)))
        from bridge.control.client import ControlClient
        from bridge.paths import DataPaths

        # Stop the demo's bridge before its folder disappears.
        try:
            asyncio.run(ControlClient(DataPaths(Path(tmp))).stop(timeout=5))
        except Exception:  # the bridge may already have idled out
            pass
    return 0
