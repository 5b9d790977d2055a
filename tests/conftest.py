"""Shared fixtures: real bridge processes on simulated WhatsApp, in temporary data dirs."""

from __future__ import annotations

import gc
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.paths import DataPaths
from bridge.transport.neonize.env import prepare_neonize_environment
from tests.helpers import spawned_bridge

# Load neonize once, up front, the way the bridge does: its import leaves two `uname` pipes
# unclosed, which would otherwise surface as a ResourceWarning in whichever test runs next.
prepare_neonize_environment()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ResourceWarning)
    import neonize.client  # noqa: F401

    gc.collect()
    # Un-waited popen processes sit in subprocess's reaper list until the next Popen runs.
    subprocess.run([sys.executable, "-c", ""], check=True)
    gc.collect()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def running_bridge(data_dir: Path) -> Iterator[DataPaths]:
    """A simulated bridge started as `python -m bridge`, stopped after the test."""
    with spawned_bridge(DataPaths(data_dir)) as paths:
        yield paths
