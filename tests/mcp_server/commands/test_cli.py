"""`whatsapp-mcp` as a person types it: global options before or after the subcommand, and
every bad input one line with the fix and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from bridge.paths import DataPaths
from tests.helpers import sim_env, stop_bridge, wait_healthy

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Default data dirs under tmp_path (platformdirs reads XDG_DATA_HOME on Linux)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path


def _env(home: Path) -> dict[str, str]:
    env = sim_env(home / "unused")
    del env["WHATSAPP_MCP_DATA_DIR"]  # the CLI picks the platform's default, as for a user
    env.pop("WHATSAPP_MCP_SIMULATE")
    env["XDG_DATA_HOME"] = str(home / "xdg")
    env["WHATSAPP_MCP_BRIDGE_IDLE_EXIT"] = "600"
    return env


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def _start_bridge(home: Path, data_dir: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "--simulate", "--data-dir", str(data_dir)],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    wait_healthy(DataPaths(data_dir))
    return proc


@pytest.fixture
def two_bridges(home: Path) -> Iterator[tuple[DataPaths, DataPaths]]:
    base = Path(platformdirs.user_data_dir("whatsapp-mcp", appauthor=False))
    assert base.is_relative_to(home)
    real, simulated = DataPaths(base), DataPaths(base / "simulated")
    procs = [_start_bridge(home, real.root)]
    yield real, simulated
    for paths in (real, simulated):
        stop_bridge(paths)
    for proc in procs:
        proc.wait(timeout=20)


@pytest.mark.parametrize(
    "argv", [["--simulate", "stop"], ["stop", "--simulate"]], ids=["before", "after"]
)
def test_simulate_before_or_after_stop_stops_only_the_simulated_bridge(
    home: Path, two_bridges: tuple[DataPaths, DataPaths], argv: list[str]
) -> None:
    real, simulated = two_bridges
    sim_proc = _start_bridge(home, simulated.root)
    done = _cli(home, *argv)
    assert done.returncode == 0, done.stderr
    assert str(simulated.root) not in done.stderr
    assert sim_proc.wait(timeout=20) == 0
    assert not simulated.token.exists()
    # The real data dir's bridge is untouched.
    wait_healthy(real, timeout=5)
    assert "bridge stopped" in done.stdout


def test_a_global_option_after_the_subcommand_does_not_reset_one_before(home: Path) -> None:
    target = home / "chosen"
    done = _cli(home, "--data-dir", str(target), "status", "--simulate")
    assert f"data dir:  {target}" in done.stdout


@pytest.mark.parametrize(
    ("argv", "fix"),
    [
        (["login", "--phone", "12"], "--phone 4915123456789"),
        (["login", "--phone", "+49 151"], "country code"),
        (["login", "--phone", "0151 2345 6789"], "country code"),
        (["--simulate-history", "many", "status"], "invalid int value"),
        (["autoreply", "off"], "--all"),
        (["autoreply", "on", "x"], "choose from"),
        (["service", "install", "--platform", "plan9"], "choose from"),
        (["frobnicate"], "choose from"),
        (["backup"], "dest"),
    ],
)
def test_every_bad_input_is_one_line_with_the_fix_and_exit_2(
    home: Path, argv: list[str], fix: str
) -> None:
    done = _cli(home, *argv)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert fix in lines[0]
    assert "Traceback" not in done.stderr
    # Nothing was started or created for a command that never ran.
    assert not (home / "xdg").exists()


def test_a_bad_setting_is_one_line_naming_the_variable(home: Path) -> None:
    env = {**_env(home), "WHATSAPP_MCP_SEND_POLICY": "everyone"}
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "WHATSAPP_MCP_SEND_POLICY" in done.stderr


def test_output_piped_into_a_reader_that_leaves_ends_quietly(home: Path) -> None:
    # `whatsapp-mcp status | head -1`: the reader is gone before the command writes.
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_server", "status", "--data-dir", str(home / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=_env(home),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(60) == 1  # cut short, as Python itself reports EPIPE
    assert "Traceback" not in err and "BrokenPipe" not in err, err
