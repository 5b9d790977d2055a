"""Fixtures for the safety tests that drive the send path directly: a store seeded with the
safety world (tests/safety/world.py) and a simulated WhatsApp whose peers stay quiet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.transport.simulated.network import SimulatedTransport
from tests.safety.world import seed_store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The seeded world's store; a module that needs more in it overrides this fixture."""
    path = tmp_path / "messages.db"
    seed_store(path)
    return path


@pytest.fixture
async def transport() -> AsyncIterator[SimulatedTransport]:
    t = SimulatedTransport(reply_delay=10_000)  # peers never answer within a test
    await t.start()
    yield t
    await t.stop()
