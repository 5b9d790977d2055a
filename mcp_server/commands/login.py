"""`whatsapp-mcp login` / `logout`: link or unlink the phone from a terminal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bridge.control.client import ControlClient
from bridge.control.errors import BridgeError
from bridge.control.models import (
    BridgeStatus,
    PairPhoneRequest,
    QrRequest,
)
from bridge.control.qr import qr_terminal
from bridge.control.states import ConnectionState
from bridge.settings import Settings
from mcp_server.supervision.supervisor import BridgeSupervisor

PAIRING_WINDOW = 180.0
Out = Callable[[str], None]


async def _status(client: ControlClient) -> BridgeStatus:
    return await client.status(timeout=5)


async def login(settings: Settings, phone: str | None, out: Out) -> int:
    client = await BridgeSupervisor(settings).start_bridge()
    status = await _status(client)
    if status.paired and status.state == ConnectionState.connected:
        out(f"Already linked as {status.account_jid}.")
        return 0
    deadline = time.monotonic() + PAIRING_WINDOW
    if phone:
        try:
            got = await client.pair_phone(PairPhoneRequest(phone=phone), timeout=60)
        except BridgeError as exc:
            out(_cannot_pair(status, exc, f"whatsapp-mcp login --phone {phone}"))
            return 1
        out(f"Pairing code: {got.code}")
        out("On the phone: WhatsApp > Linked devices > Link a device > Link with phone number")
        out("instead, then type the code above.")
    shown: str | None = None
    while time.monotonic() < deadline:
        status = await _status(client)
        if status.paired and status.state == ConnectionState.connected:
            out(f"Linked as {status.account_jid}. History sync continues in the background.")
            return 0
        if status.state in (ConnectionState.outdated, ConnectionState.banned):
            out(status.advice)
            return 1
        if not phone:
            try:
                qr = await client.login_qr(QrRequest(wait_seconds=5), timeout=15)
            except BridgeError as exc:
                if exc.code in {"whatsapp_unreachable"}:
                    out(_cannot_pair(status, exc, "whatsapp-mcp login"))
                    return 1
                if exc.code == "already_paired":
                    continue
                qr = None
            if qr is not None and qr.qr != shown:
                shown = qr.qr
                out(qr_terminal(qr.qr))
                out("Scan with WhatsApp > Linked devices > Link a device.")
                if qr.png_path:
                    out(f"(Also saved as {qr.png_path}.)")
        await asyncio.sleep(1.0)
    out("Pairing timed out; run `whatsapp-mcp login` again.")
    return 1


def _cannot_pair(status: BridgeStatus, exc: BridgeError, again: str) -> str:
    """One honest line: what stopped pairing and the command to run once it is fixed (nothing
    retries by itself after this)."""
    if exc.code in {"whatsapp_unreachable", "not_connected"} or status.state in (
        ConnectionState.disconnected,
        ConnectionState.connecting,
    ):
        return (
            "Cannot link now: WhatsApp's servers are not reachable from this machine "
            f"(state: {status.state.value}). Check the internet connection, then run `{again}`."
        )
    return f"Cannot link now: {exc.message.rstrip('.')}. Run `{again}` when that is fixed."


async def logout(settings: Settings, out: Out) -> int:
    client = await BridgeSupervisor(settings).start_bridge()
    await client.logout(timeout=30)
    out("This device is unlinked from WhatsApp. Stored messages are kept.")
    return 0
