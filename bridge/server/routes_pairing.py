"""Control API for linking a phone: QR code, phone-number code, logout (bridge/pairing.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.control.models import (
    LogoutResponse,
    PairCodeResponse,
    PairPhoneRequest,
    QrRequest,
    QrResponse,
)
from bridge.pairing import Pairing
from bridge.server.app import Route

if TYPE_CHECKING:
    from bridge.daemon import Bridge


def routes(bridge: Bridge) -> list[Route]:
    pairing = Pairing(bridge)

    async def login_qr(req: QrRequest) -> QrResponse:
        return await pairing.qr(req.wait_seconds)

    async def pair_phone(req: PairPhoneRequest) -> PairCodeResponse:
        return await pairing.phone_code(req.phone)

    async def logout(_: object) -> LogoutResponse:
        return await pairing.logout()

    return [
        Route("POST", "/api/pairing/qr", login_qr, QrRequest),
        Route("POST", "/api/pairing/phone", pair_phone, PairPhoneRequest),
        Route("POST", "/api/logout", logout),
    ]
