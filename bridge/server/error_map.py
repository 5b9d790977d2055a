"""The bridge's domain errors as control-API answers: one status per kind of failure."""

from __future__ import annotations

from bridge import refusals
from bridge.send.sender import SendRefused
from bridge.server.errors import HttpError
from bridge.transport.protocol import MediaUnavailable, NotConnected, TransportError
from store.errors import Ambiguous, InvalidArgument, NotFound, StoreError

_REFUSAL_STATUS: dict[type[refusals.Refused], int] = {
    refusals.Conflict: 409,
    refusals.Unavailable: 503,
    refusals.TimedOut: 504,
    refusals.Gone: 410,
    refusals.TooLarge: 413,
    refusals.Unsuitable: 422,
    refusals.NeedsSetup: 424,
    refusals.UpstreamRefused: 502,
}


def refusal_status(exc: refusals.Refused) -> int:
    """The status of a refusal's kind (the nearest listed base class; 400 for none)."""
    for kind in type(exc).__mro__:
        if kind in _REFUSAL_STATUS:
            return _REFUSAL_STATUS[kind]
    return 400


def map_error(exc: Exception) -> HttpError | None:
    """Domain errors → HTTP status and a message the caller can act on; None: not ours."""
    if isinstance(exc, refusals.Refused):
        return HttpError(refusal_status(exc), exc.code, exc.message)
    if isinstance(exc, SendRefused):
        return HttpError(403, exc.code, str(exc))
    if isinstance(exc, NotFound):
        return HttpError(404, "not_found", str(exc))
    if isinstance(exc, Ambiguous):
        return HttpError(409, "ambiguous", str(exc))
    if isinstance(exc, InvalidArgument):
        return HttpError(422, "invalid_argument", str(exc))
    if isinstance(exc, NotConnected):
        return HttpError(503, "not_connected", str(exc))
    if isinstance(exc, MediaUnavailable):  # before TransportError, which it is
        return HttpError(410, "media_expired", str(exc))
    if isinstance(exc, TransportError):
        return HttpError(502, "whatsapp_error", str(exc))
    if isinstance(exc, StoreError):
        return HttpError(500, "store_error", str(exc))
    return None
