"""Control API for linking a phone: QR code, phone-number code, logout."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bridge.control.models import (
    LogoutResponse,
    PairCodeResponse,
    PairPhoneRequest,
    QrRequest,
    QrResponse,
)
from bridge.server.app import Route
from bridge.server.errors import HttpError
from bridge.transport.protocol import PERMANENT_STATES, ConnectionState

if TYPE_CHECKING:
    from bridge.daemon import Bridge

UNREACHABLE_HINT = "cannot reach"


def _unreachable(bridge: Bridge) -> bool:
    detail = (bridge.state_detail or "").lower()
    return bridge.state == ConnectionState.disconnected and UNREACHABLE_HINT in detail


def routes(bridge: Bridge) -> list[Route]:
    async def login_qr(req: QrRequest) -> QrResponse:
        deadline = time.monotonic() + req.wait_seconds
        restarted = False
        while True:
            logged_out = ConnectionState.logged_out
            if not restarted and logged_out in (bridge.state, bridge.transport.state):
                # Unlinked earlier: asking for a QR code starts a fresh pairing. The transport's
                # own state counts too, as the bridge may not have seen the event yet.
                restarted = True
                await bridge.transport.start()
            if bridge.state == ConnectionState.connected and bridge.transport.is_paired():
                raise HttpError(409, "already_paired", "This device is already linked to WhatsApp.")
            if bridge.state in PERMANENT_STATES and bridge.state != ConnectionState.logged_out:
                raise HttpError(503, bridge.state.value, bridge.status().advice)
            info = bridge.pairing
            now = datetime.now(UTC)
            if info and info.qr and (info.expires_at is None or info.expires_at > now):
                png = bridge.paths.qr_png
                return QrResponse(
                    qr=info.qr,
                    png_path=str(png) if png.exists() else None,
                    expires_at=info.expires_at,
                )
            if _unreachable(bridge):
                raise HttpError(
                    503,
                    "whatsapp_unreachable",
                    f"WhatsApp's servers cannot be reached, so no QR code can be made: "
                    f"{bridge.state_detail} Check the internet connection and try again.",
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise HttpError(
                    504,
                    "no_qr_yet",
                    f"No QR code arrived in {req.wait_seconds:.0f} s (state: "
                    f"{bridge.state.value}). Try again in a moment.",
                )
            await bridge.wait_pairing_change(left)

    async def pair_phone(req: PairPhoneRequest) -> PairCodeResponse:
        if bridge.state == ConnectionState.connected and bridge.transport.is_paired():
            raise HttpError(
                409,
                "already_paired",
                "This device is already linked to WhatsApp; run `whatsapp-mcp logout` first to "
                "link another account.",
            )
        if _unreachable(bridge):
            raise HttpError(
                503,
                "whatsapp_unreachable",
                f"WhatsApp's servers cannot be reached: {bridge.state_detail}",
            )
        code = await asyncio.wait_for(bridge.transport.pair_phone(req.phone), 40)
        expires = bridge.pairing.expires_at if bridge.pairing else None
        return PairCodeResponse(code=code, expires_at=expires)

    async def logout(_: object) -> LogoutResponse:
        await bridge.transport.logout()
        return LogoutResponse()

    return [
        Route("POST", "/api/pairing/qr", login_qr, QrRequest),
        Route("POST", "/api/pairing/phone", pair_phone, PairPhoneRequest),
        Route("POST", "/api/logout", logout),
    ]
