"""The real bridge process on a fake of neonize 0.5.2's Go library that fails like the real one.

QR windows that run out, a scan, and `whatsapp-mcp stop` in each state: the bridge must always
offer a fresh QR code, never restart after the scan, never `Stop()` an unpaired client (that
blocks or aborts), never die from a Go abort, and exit within 10 s leaving no process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.control.client import ControlClient
from bridge.control.models import PairCodeResponse, PairPhoneRequest
from bridge.transport.protocol import ConnectionState
from tests.bridge.transport.neonize.fake_ffi_helpers import FakeBridge


@pytest.fixture
def fake_bridge(tmp_path: Path) -> Iterator[Callable[..., FakeBridge]]:
    made: list[FakeBridge] = []

    def make(**scenario: Any) -> FakeBridge:
        made.append(FakeBridge(tmp_path / "data", **scenario))
        return made[-1]

    yield make
    for bridge in made:
        bridge.close()


def _window_of(qr: str) -> int:
    return int(qr.split("fake", 1)[1].split("-", 1)[0])


def test_three_qr_windows_expire_then_a_fourth_is_scanned_and_stop_is_clean(
    fake_bridge: Callable[..., FakeBridge],
) -> None:
    # Windows of 2 s (real: 160 s), so a status poll under load still sees each one.
    bridge = fake_bridge(
        expire_windows=3,
        first_code=1.5,
        next_code=0.5,
        codes=2,
        end_statuses=["timeout", "error", "err-unexpected-pair-response"],
    )
    bridge.start()
    windows_seen: set[int] = set()

    def paired_and_connected() -> bool:
        st = bridge.status()  # the control API answers throughout
        if st.pairing and st.pairing.qr:
            windows_seen.add(_window_of(st.pairing.qr))
        return st.state is ConnectionState.connected and st.paired

    st_ok = bridge.wait_for(paired_and_connected, "the fourth window's scan", timeout=60)
    assert st_ok
    assert windows_seen == {0, 1, 2, 3}, windows_seen  # a fresh QR after every expiry
    neonize = bridge.calls("Neonize")
    assert len(neonize) == 4 and len({c["uuid"] for c in neonize}) == 4  # fresh uuid each time
    assert bridge.calls("Stop") == []  # no unpaired client was ever stopped
    assert bridge.calls("GetAllContacts") == []
    paired_uuid = bridge.calls("paired")[0]["uuid"]
    status = bridge.status()
    assert status.account_jid == "15550001111@s.whatsapp.net"
    # No restart after the scan: still the same client, connected, nothing stopped it.
    assert [c["uuid"] for c in bridge.calls("Neonize")][-1] == paired_uuid
    assert not [c for c in bridge.calls() if c["call"] in ("Stop", "Disconnect")]

    took = bridge.cli_stop()
    assert took < 10
    stops = bridge.calls("Stop")
    assert [s["uuid"] for s in stops] == [paired_uuid] and stops[0]["phase"] == "connected"
    assert bridge.calls("Disconnect")[0]["uuid"] == paired_uuid  # socket first, then Stop
    # The fake delivered a buffered Connected after Stop(); nothing called Go because of it.
    assert bridge.calls("delivered")[-1]["tag"] == "connected-after-stop"
    assert not bridge.calls("abort")
    assert bridge.proc is not None and bridge.proc.returncode == 0, bridge.tail()


def test_stop_during_the_first_qr_window_exits_within_10_s(
    fake_bridge: Callable[..., FakeBridge],
) -> None:
    bridge = fake_bridge(expire_windows=-1, first_code=60, codes=1)
    bridge.start()
    bridge.wait_for(lambda: bridge.status().state is ConnectionState.pairing, "a QR code")
    assert bridge.cli_stop() < 10
    assert bridge.calls("Stop") == []  # Stop() in the QR phase would block forever
    assert bridge.proc is not None and bridge.proc.returncode == 0, bridge.tail()


def test_stop_after_windows_expired_exits_within_10_s(
    fake_bridge: Callable[..., FakeBridge],
) -> None:
    bridge = fake_bridge(expire_windows=-1, first_code=0.3, codes=2)
    bridge.start()

    def two_wedged_and_a_fresh_qr() -> bool:
        st = bridge.status()
        qr = st.pairing.qr if st.pairing else None
        return len(bridge.calls("fetchme")) >= 2 and qr is not None and _window_of(qr) >= 2

    bridge.wait_for(two_wedged_and_a_fresh_qr, "two expired windows and a third QR")
    assert bridge.healthy()
    assert bridge.cli_stop() < 10  # two clients are spinning in FetchMe for ever
    assert bridge.calls("Stop") == [] and not bridge.calls("abort")
    assert bridge.proc is not None and bridge.proc.returncode == 0, bridge.tail()


def test_a_pairing_code_expires_with_its_qr_window(fake_bridge: Callable[..., FakeBridge]) -> None:
    bridge = fake_bridge(expire_windows=-1, first_code=60, codes=1)
    bridge.start()
    bridge.wait_for(lambda: bridge.status().state is ConnectionState.pairing, "a QR code")
    first_qr = bridge.calls("qr")[0]["t"]
    asked = time.monotonic()
    reply = asyncio.run(
        ControlClient(bridge.paths).call(
            "POST", "/api/pairing/phone", PairCodeResponse, PairPhoneRequest(phone="+15550001111")
        )
    )
    assert reply.code == "ABCD-EFGH"
    assert bridge.calls("PairPhone")[0]["name"] == "Chrome (Linux)"
    assert reply.expires_at is not None
    left = (reply.expires_at - datetime.now(UTC)).total_seconds()
    # The window closes 160 s after its first code, not 165 s after the request.
    assert abs(left - (160 - (asked - first_qr))) < 3
    assert bridge.cli_stop() < 10


def test_a_connect_failure_restarts_with_a_fresh_client(
    fake_bridge: Callable[..., FakeBridge],
) -> None:
    bridge = fake_bridge(expire_windows=0, connect_failures=1)
    bridge.start()
    bridge.wait_for(
        lambda: bridge.status().state is ConnectionState.connected, "the reconnect", timeout=30
    )
    failed, fresh = (c["uuid"] for c in bridge.calls("Neonize"))
    assert failed != fresh
    # Paired, so stopping the failed client is safe; nothing else was ever stopped.
    assert [(s["uuid"], s["phase"]) for s in bridge.calls("Stop")] == [(failed, "failed")]
    assert bridge.cli_stop() < 10
    assert bridge.proc is not None and bridge.proc.returncode == 0, bridge.tail()


def test_stop_during_a_dial_that_hangs_exits_within_10_s(
    fake_bridge: Callable[..., FakeBridge],
) -> None:
    """Paired, black-holed network: Disconnect() and Stop() wait behind the dial (as in Go)."""
    bridge = fake_bridge(expire_windows=0)
    bridge.start()
    bridge.wait_for(lambda: bridge.status().state is ConnectionState.connected, "pairing")
    assert bridge.cli_stop() < 10
    bridge.scenario["dial_hang"] = 60.0
    bridge.start()
    bridge.wait_for(lambda: bridge.calls("Neonize")[-1]["paired"], "a paired dial")
    # The dial has begun; the bridge reports it as soon as its connect thread gets the CPU.
    bridge.wait_for(lambda: bridge.status().state is ConnectionState.connecting, "connecting")
    assert bridge.cli_stop() < 10
    assert bridge.proc is not None and bridge.proc.returncode == 0, bridge.tail()
