"""Linking this device to a phone: a QR code to scan, or an 8-character code for the phone.

The control API's pairing routes call this and nothing else; what cannot be done now is a
refusal (bridge/refusals.py) that says why and what to do.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bridge.control.models import LogoutResponse, PairCodeResponse, QrResponse
from bridge.refusals import Conflict, TimedOut, Unavailable
from bridge.transport.protocol import PERMANENT_STATES, ConnectionState

if TYPE_CHECKING:
    from bridge.daemon import Bridge

UNREACHABLE_HINT = "cannot reach"
# whatsmeow's PairPhone answers within seconds once connected; past this, something is stuck.
PHONE_CODE_TIMEOUT = 40.0


class Pairing:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    def _linked(self) -> bool:
        b = self.bridge
        return b.state == ConnectionState.connected and b.transport.is_paired()

    def _unreachable(self) -> bool:
        b = self.bridge
        detail = (b.state_detail or "").lower()
        return b.state == ConnectionState.disconnected and UNREACHABLE_HINT in detail

    async def qr(self, wait_seconds: float) -> QrResponse:
        """The current QR code, waiting up to `wait_seconds` for one to arrive."""
        b = self.bridge
        deadline = time.monotonic() + wait_seconds
        restarted = False
        while True:
            logged_out = ConnectionState.logged_out
            if not restarted and logged_out in (b.state, b.transport.state):
                # Unlinked earlier: asking for a QR code starts a fresh pairing. The transport's
                # own state counts too, as the bridge may not have seen the event yet.
                restarted = True
                await b.transport.start()
            if self._linked():
                raise Conflict("already_paired", "This device is already linked to WhatsApp.")
            if b.state in PERMANENT_STATES and b.state != ConnectionState.logged_out:
                raise Unavailable(b.state.value, b.status().advice)
            info = b.pairing
            now = datetime.now(UTC)
            if info and info.qr and (info.expires_at is None or info.expires_at > now):
                png = b.paths.qr_png
                return QrResponse(
                    qr=info.qr,
                    png_path=str(png) if png.exists() else None,
                    expires_at=info.expires_at,
                )
            if self._unreachable():
                raise Unavailable(
                    "whatsapp_unreachable",
                    f"WhatsApp's servers cannot be reached, so no QR code can be made: "
                    f"{b.state_detail} Check the internet connection and try again.",
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimedOut(
                    "no_qr_yet",
                    f"No QR code arrived in {wait_seconds:.0f} s (state: {b.state.value}). "
                    "Try again in a moment.",
                )
            await b.wait_pairing_change(left)

    async def phone_code(self, phone: str) -> PairCodeResponse:
        """The code to type on the phone (Linked devices → Link with phone number)."""
        b = self.bridge
        if self._linked():
            raise Conflict(
                "already_paired",
                "This device is already linked to WhatsApp; run `whatsapp-mcp logout` first to "
                "link another account.",
            )
        if self._unreachable():
            raise Unavailable(
                "whatsapp_unreachable", f"WhatsApp's servers cannot be reached: {b.state_detail}"
            )
        try:
            code = await asyncio.wait_for(b.transport.pair_phone(phone), PHONE_CODE_TIMEOUT)
        except TimeoutError as exc:
            raise TimedOut(
                "no_pairing_code",
                f"WhatsApp sent no pairing code in {PHONE_CODE_TIMEOUT:.0f} s (state: "
                f"{b.state.value}). Try again in a moment, or use the QR code instead.",
            ) from exc
        expires = b.pairing.expires_at if b.pairing else None
        return PairCodeResponse(code=code, expires_at=expires)

    async def logout(self) -> LogoutResponse:
        await self.bridge.transport.logout()
        return LogoutResponse()
