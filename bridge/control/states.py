"""The bridge's connection states, as the control API reports them."""

from __future__ import annotations

from enum import Enum


class ConnectionState(str, Enum):
    connected = "connected"
    connecting = "connecting"
    pairing = "pairing"
    logged_out = "logged_out"
    outdated = "outdated"
    banned = "banned"
    stream_replaced = "stream_replaced"
    disconnected = "disconnected"


PERMANENT_STATES = frozenset(
    {ConnectionState.logged_out, ConnectionState.outdated, ConnectionState.banned}
)
