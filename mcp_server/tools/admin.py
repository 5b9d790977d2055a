"""Linking a phone: the QR code and the phone-number pairing code."""

from __future__ import annotations

import base64
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ImageContent, TextContent, ToolAnnotations
from pydantic import Field

from bridge.control.models import PairCodeResponse, PairPhoneRequest, QrRequest
from bridge.control.qr import qr_png
from mcp_server.app import App
from mcp_server.errors import tool_errors

LINK_STEPS = (
    "On the phone: WhatsApp > Settings (or the ⋮ menu) > Linked devices > Link a device, then "
    "scan this QR code. It expires in about a minute; call get_login_qr again for a fresh one."
)


def register(server: MCPServer, app: App) -> None:
    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True))
    async def get_login_qr() -> list[TextContent | ImageContent]:
        """QR code that links this server to the user's WhatsApp (they scan it in Linked
        devices > Link a device). Needed once; get_status says if paired."""
        with tool_errors():
            client = await app.bridge()
            qr = await client.login_qr(QrRequest(wait_seconds=20), timeout=30)
        note = LINK_STEPS
        if qr.png_path:
            note += f" The same image is saved at {qr.png_path}."
        image = ImageContent(
            type="image",
            data=base64.b64encode(qr_png(qr.qr)).decode("ascii"),
            mime_type="image/png",
        )
        return [TextContent(type="text", text=note), image]

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=True,
        )
    )
    async def request_pairing_code(
        phone: Annotated[
            str,
            Field(
                min_length=5,
                max_length=40,
                description="The user's own number with country code.",
            ),
        ],
    ) -> PairCodeResponse:
        """Link by phone number instead of QR: returns an 8-character code the user types in
        WhatsApp > Linked devices > Link a device > Link with phone number instead."""
        with tool_errors():
            client = await app.bridge()
            return await client.pair_phone(
                PairPhoneRequest(phone=phone),
                timeout=60,
            )
