# pyright: basic
"""Shared pieces of the neonize converters: units, JIDs, wrappers.

Timestamps come in mixed units: a live `MessageEv.Info.Timestamp` is **milliseconds**; history
sync `messageTimestamp`, receipts, send responses and group events are **seconds**.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

from bridge.transport.neonize.env import prepare_neonize_environment

prepare_neonize_environment()  # before neonize loads: bot tag off, logging, stdout pipes

from neonize.proto import Neonize_pb2 as N  # noqa: E402
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E  # noqa: E402
from neonize.utils.jid import Jid2String  # noqa: E402

from bridge.transport.protocol import (  # noqa: E402
    DeleteEvent,
    EditEvent,
    MessageEvent,
    ReactionEvent,
)
from store.jid import normalize_jid  # noqa: E402

logger = logging.getLogger(__name__)

STATUS_BROADCAST = "status@broadcast"

# Fields that ride along with real content (or alone, as key distribution) and carry no
# user-visible message.
_CARRIER_FIELDS = frozenset(
    {
        "messageContextInfo",
        "senderKeyDistributionMessage",
        "fastRatchetKeySenderKeyDistributionMessage",
    }
)

# The wrappers whatsmeow's `events.Message.UnwrapRaw` peels, in its order.
_WRAPPERS = (
    "deviceSentMessage",
    "botInvokeMessage",
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "lottieStickerMessage",
    "documentWithCaptionMessage",
    "editedMessage",
)

_POLL_FIELDS = (
    "pollCreationMessage",
    "pollCreationMessageV2",
    "pollCreationMessageV3",
    "pollCreationMessageV4",
    "pollCreationMessageV5",
    "pollCreationMessageV6",
)

# The Python-side time range we accept; anything else is garbage.
_MIN_TS = datetime(2009, 1, 1, tzinfo=UTC)  # WhatsApp launched in 2009
_MAX_TS = datetime(2200, 1, 1, tzinfo=UTC)

Converted = MessageEvent | ReactionEvent | EditEvent | DeleteEvent

# ---------------------------------------------------------------- small helpers


def from_seconds(value: int | float) -> datetime | None:
    """Epoch seconds → aware UTC datetime; None for 0 or out-of-range values."""
    try:
        if not value:
            return None
        ts = datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return ts if _MIN_TS <= ts <= _MAX_TS else None


def from_millis(value: int) -> datetime | None:
    """Epoch milliseconds → aware UTC datetime; None for 0 or out-of-range values."""
    return from_seconds(value / 1000) if value else None


def _now() -> datetime:
    return datetime.now(UTC)


def jid_str(value: str | None) -> str | None:
    """A JID string normalised for the store (no device/agent); None if empty or invalid."""
    if not value:
        return None
    try:
        return normalize_jid(value)
    except Exception:  # InvalidArgument and anything odd in garbage input
        logger.debug("ignoring unparsable JID %r", value)
        return None


def jid_proto(jid: N.JID | None) -> str | None:
    """A neonize `JID` protobuf as a normalised JID string; None if empty or invalid."""
    if jid is None or not jid.User or not jid.Server:
        return None
    return jid_str(Jid2String(jid))


def _b64(data: bytes) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def _text_or_none(value: str) -> str | None:
    return value if value else None


def unwrap(msg: E.Message) -> E.Message:
    """Peel the wrappers WhatsApp puts around content, like whatsmeow's `UnwrapRaw`.

    Live `MessageEv.Message` is already unwrapped by whatsmeow; history-sync messages are not.
    """
    for name in _WRAPPERS:
        if msg.HasField(name):  # type: ignore[arg-type]
            inner = getattr(msg, name)
            if inner.HasField("message"):
                msg = inner.message
    return msg
