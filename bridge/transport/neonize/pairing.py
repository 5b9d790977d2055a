# pyright: basic
"""Pairing for `NeonizeTransport`: QR codes, login statuses, phone codes.

Every QR code and a successful `PairStatus` restart the watchdog's clock; a window that ends
("timeout", "error", `err-*`) marks the generation for replacement, never for `stop()`.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import time
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bridge.transport.neonize.generation import (
    FIRST_QR_SECONDS,
    NEXT_QR_SECONDS,
    QR_CHANNEL_SECONDS,
    Generation,
)
from bridge.transport.protocol import (
    ConnectionEvent,
    ConnectionState,
    NotConnected,
    PairingEvent,
    TransportError,
    TransportEvent,
)
from store.jid import phone_to_jid, user_part

logger = logging.getLogger(__name__)


class NeonizePairing:
    """Mixin: needs the transport's generation, state and event plumbing."""

    _gen: Generation | None
    _nz: dict[str, ModuleType] | None
    _state: ConnectionState
    _qr_grace: float

    if TYPE_CHECKING:  # provided by the transport and NeonizeCommands

        def _emit(self, event: TransportEvent | None) -> None: ...

        def is_paired(self) -> bool: ...

        async def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any: ...

    def on_qr(self, gen: Generation, data: bytes) -> None:
        if gen.retired:
            return
        now = time.monotonic()
        first = gen.first_qr_at is None
        if first:
            gen.first_qr_at = now
        lifetime = FIRST_QR_SECONDS if first else NEXT_QR_SECONDS
        gen.clock = now  # the watchdog's clock restarts with every code
        gen.qr_deadline = now + lifetime + self._qr_grace
        gen.qr_seen.set()
        self._state = ConnectionState.pairing
        self._emit(
            PairingEvent(
                code=None,
                qr=bytes(data).decode("utf-8", "replace"),
                expires_at=datetime.now(UTC) + timedelta(seconds=lifetime),
            )
        )
        if first:
            self._emit(
                ConnectionEvent(
                    state=ConnectionState.pairing,
                    detail="Not paired: scan the QR code in WhatsApp > Linked devices, "
                    "or pair with a phone number.",
                )
            )

    def _login_status_handler(self, gen: Generation) -> Any:
        def handler(_uuid: Any, status: Any) -> None:
            try:
                text = ctypes.string_at(status).decode("utf-8", "replace") if status else ""
                self._on_login_status(gen, text)
            except Exception:
                logger.exception("could not handle a login status")

        return handler

    def _on_login_status(self, gen: Generation, text: str) -> None:
        logger.info("WhatsApp login status: %s", text)
        if gen.retired or text in ("", "success"):
            return
        if text == "err-client-outdated":
            from neonize.proto.Neonize_pb2 import ClientOutdated

            gen.handlers["connection"](gen.client, ClientOutdated())
        elif text == "timeout":
            gen.restart_reason = "qr-expired"
        elif text == "error" or text.startswith("err-"):
            self._emit(
                ConnectionEvent(
                    state=ConnectionState.pairing,
                    detail=f"Pairing failed ({text}); a new QR code follows.",
                )
            )
            gen.restart_reason = "pair-error"

    def on_pair_success(self, gen: Generation) -> None:
        gen.paired = True
        gen.clock = time.monotonic()  # finishing the pairing is not a stuck dial
        gen.qr_deadline = None

    # ------------------------------------------------------------ pairing and logout

    async def pair_phone(self, phone: str) -> str:
        gen, nz = self._gen, self._nz
        if gen is None or nz is None or not gen.started:
            raise NotConnected("Start the bridge before pairing.")
        if self.is_paired() and self._state is not ConnectionState.pairing:
            raise TransportError("This session is already paired; log out first to pair again.")
        digits = user_part(phone_to_jid(phone))
        # PairPhone only works once the websocket is up, i.e. after the first QR code.
        if not await asyncio.to_thread(gen.qr_seen.wait, 20.0):
            raise NotConnected(
                f"WhatsApp is not ready for pairing (state: {self._state.value}); try again."
            )
        enum = nz["enum"]
        code = await self._call(
            "request a pairing code",
            gen.client.PairPhone,
            digits,
            True,
            enum.ClientName.LINUX,
            enum.ClientType.CHROME,
        )
        # The code dies with this client's QR channel, 160 s after its first code.
        first = gen.first_qr_at or time.monotonic()
        left = max(0.0, first + QR_CHANNEL_SECONDS - time.monotonic())
        expires = datetime.now(UTC) + timedelta(seconds=left)
        gen.qr_deadline = max(gen.qr_deadline or 0.0, time.monotonic() + left + self._qr_grace)
        self._emit(PairingEvent(qr=None, code=code, expires_at=expires))
        return code
