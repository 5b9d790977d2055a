"""What each connection state means for the user, in one sentence each."""

from __future__ import annotations

from bridge.control.states import ConnectionState
from bridge.control.versions import UPGRADE_COMMAND

ADVICE: dict[ConnectionState, str] = {
    ConnectionState.connected: "Connected to WhatsApp; messages arrive live.",
    ConnectionState.connecting: (
        "Connecting to WhatsApp; reads work from the local store meanwhile."
    ),
    ConnectionState.pairing: (
        "Not paired yet: call get_login_qr and scan the QR code in WhatsApp > Linked devices, "
        "or call request_pairing_code with your phone number."
    ),
    ConnectionState.logged_out: (
        "This device was unlinked from WhatsApp. Pair again with `whatsapp-mcp login` or the "
        "get_login_qr tool; the stored messages are kept."
    ),
    ConnectionState.outdated: (
        "WhatsApp rejected this client version (405 client outdated). Upgrade to a release "
        f"that pins a newer neonize: `{UPGRADE_COMMAND}` or the newest Claude Desktop bundle, "
        "then `whatsapp-mcp stop`."
    ),
    ConnectionState.banned: (
        "WhatsApp temporarily banned this number. All sending is frozen; wait until the ban "
        "expires and send less."
    ),
    ConnectionState.stream_replaced: (
        "Another program took over this WhatsApp session (the same session.db used twice). "
        "Stop the other copy, then run `whatsapp-mcp stop` and try again."
    ),
    ConnectionState.disconnected: (
        "Disconnected from WhatsApp; the bridge retries with backoff. Check the network."
    ),
}
