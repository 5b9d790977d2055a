"""The control API's answer to each domain error (bridge/server/error_map.py)."""

from __future__ import annotations

import pytest

from bridge import refusals
from bridge.send.sender import SendRefused
from bridge.server.error_map import map_error
from bridge.transport.protocol import MediaUnavailable, NotConnected, TransportError
from store.errors import Ambiguous, InvalidArgument, NotFound, StoreError


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (refusals.Conflict("already_paired", "m"), 409, "already_paired"),
        (refusals.Unavailable("whatsapp_unreachable", "m"), 503, "whatsapp_unreachable"),
        (refusals.TimedOut("no_qr_yet", "m"), 504, "no_qr_yet"),
        (refusals.Gone("media_expired", "m"), 410, "media_expired"),
        (refusals.TooLarge("too_large", "m"), 413, "too_large"),
        (refusals.Unsuitable("not_a_voice_note", "m"), 422, "not_a_voice_note"),
        (refusals.NeedsSetup("no_api_key", "m"), 424, "no_api_key"),
        (refusals.UpstreamRefused("gemini_error", "m"), 502, "gemini_error"),
        (NotFound("m"), 404, "not_found"),
        (Ambiguous("m", ["a@s.whatsapp.net", "b@s.whatsapp.net"]), 409, "ambiguous"),
        (InvalidArgument("m"), 422, "invalid_argument"),
        (NotConnected("m"), 503, "not_connected"),
        (MediaUnavailable("m"), 410, "media_expired"),
        (TransportError("m"), 502, "whatsapp_error"),
        (StoreError("m"), 500, "store_error"),
    ],
)
def test_each_domain_error_has_its_status_code_and_message(
    error: Exception, status: int, code: str
) -> None:
    answer = map_error(error)
    assert answer is not None
    assert (answer.status, answer.code, answer.message) == (status, code, "m")


def test_a_send_refusal_keeps_its_own_code() -> None:
    answer = map_error(SendRefused("recipient_blocked", "That number is blocked."))
    assert answer is not None and (answer.status, answer.code) == (403, "recipient_blocked")


def test_a_narrower_refusal_answers_as_its_kind() -> None:
    class QrExpired(refusals.Gone):
        pass

    answer = map_error(QrExpired("qr_expired", "m"))
    assert answer is not None and answer.status == 410


def test_an_error_that_is_not_the_bridges_is_left_to_the_internal_error_path() -> None:
    assert map_error(RuntimeError("bug")) is None
