"""`whatsapp-mcp service`: the unit and agent it writes, and a bridge run the way that unit runs
it, which MCP servers attach to and leave without ever starting or stopping it."""

from __future__ import annotations

import asyncio
import os
import plistlib
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.control.autoreply import AutoReplyState, SetAutoReplyRequest
from bridge.control.client import ControlClient
from bridge.control.lifecycle import ServiceRecord, write_service_record
from bridge.control.lockfile import holder_pid
from bridge.control.models import BridgeStatus, InboundRequest, InboundResponse
from bridge.paths import DataPaths
from store.db import open_reader
from tests.helpers import sim_env, wait_healthy
from tests.reliability.procs import StdioServer, bridge_processes, wait_for

ROOT = Path(__file__).resolve().parents[3]
TOM = "447700900418@s.whatsapp.net"  # a saved contact of the simulated network


def _cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = sim_env(
        data_dir,
        WHATSAPP_MCP_AUTOREPLY_DEBOUNCE="0.3",
        WHATSAPP_MCP_AUTOREPLY_DELAY_MIN="0",
        WHATSAPP_MCP_AUTOREPLY_DELAY_MAX="0.01",
        # The simulated peer answers an auto-reply, which the rule would answer again: keep
        # the peer quiet for the test's length so "1 replies today" is the whole story.
        WHATSAPP_MCP_SIMULATE_REPLY_DELAY="300",
        **extra,
    )
    env.pop("WHATSAPP_MCP_SIMULATE")  # only --simulate on the command line says so
    return env


def _dry_run(data_dir: Path, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server", "service", "install", "--dry-run", *extra],
        env=_cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    return done.stdout


def parse_unit(text: str) -> dict[str, list[str]]:
    """A systemd unit's `Key=value` lines (keys may repeat, like Environment)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def unit_environment(unit: dict[str, list[str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for raw in unit.get("Environment", []):
        [pair] = shlex.split(raw)
        key, _, value = pair.partition("=")
        env[key] = value
    return env


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", *args],
        env=sim_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_the_linux_unit_runs_the_bridge_for_the_data_dir_and_restarts_on_failure(
    data_dir: Path,
) -> None:
    text = _dry_run(data_dir, "--platform", "linux")
    assert text.startswith("# would write ") and "whatsapp-mcp-bridge.service" in text
    unit = parse_unit(text)
    [exec_start] = unit["ExecStart"]
    assert shlex.split(exec_start) == [
        sys.executable, "-m", "mcp_server", "bridge", "--data-dir", str(data_dir),
    ]  # fmt: skip
    assert unit_environment(unit)["WHATSAPP_MCP_DATA_DIR"] == str(data_dir)
    assert unit["Restart"] == ["on-failure"]
    assert unit["StandardError"] == [f"append:{data_dir / 'bridge.log'}"]
    assert unit["UMask"] == ["0077"]
    assert unit["WantedBy"] == ["default.target"]
    assert unit["EnvironmentFile"] == [f"-{data_dir / 'service.env'}"]
    assert "GEMINI_API_KEY" not in text
    assert not data_dir.exists(), "a dry run writes nothing"


def test_the_macos_agent_runs_the_bridge_and_keeps_it_alive_after_a_crash_only(
    data_dir: Path,
) -> None:
    text = _dry_run(data_dir, "--platform", "macos")
    header, _, body = text.partition("\n")
    assert header.endswith("Library/LaunchAgents/io.github.whatsapp-mcp.bridge.plist")
    agent = plistlib.loads(body.encode())
    assert agent["ProgramArguments"] == [
        sys.executable, "-m", "mcp_server", "bridge", "--data-dir", str(data_dir),
    ]  # fmt: skip
    assert agent["EnvironmentVariables"]["WHATSAPP_MCP_DATA_DIR"] == str(data_dir)
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["RunAtLoad"] is True
    assert agent["StandardErrorPath"] == str(data_dir / "bridge.log")
    assert agent["Umask"] == 0o077


def test_windows_gets_the_task_scheduler_line(data_dir: Path) -> None:
    text = _dry_run(data_dir, "--platform", "windows")
    assert "schtasks /Create /SC ONLOGON" in text
    assert "mcp_server bridge --data-dir" in text and str(data_dir) in text


def _control(paths: DataPaths) -> ControlClient:
    return ControlClient(paths)


def _auto_replies(paths: DataPaths) -> list[str]:
    conn = open_reader(paths.messages_db)
    try:
        rows = conn.execute(
            "SELECT content FROM messages WHERE chat_jid = ? AND is_from_me = 1 "
            "AND is_auto_reply = 1",
            (TOM,),
        ).fetchall()
    finally:
        conn.close()
    return [str(r[0]) for r in rows]


def test_a_service_bridge_outlives_two_servers_and_still_auto_replies(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    unit = parse_unit(_dry_run(data_dir, "--simulate"))
    # What systemd would do: ExecStart with the unit's environment (plus PATH/HOME/PYTHONPATH,
    # which a user session has).
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH")}
    env.update(unit_environment(unit))
    assert env["WHATSAPP_MCP_SIMULATE"] == "1"
    write_service_record(
        paths,
        ServiceRecord(manager="systemd", unit_path="(test)", stop_command="systemctl --user stop"),
    )
    service = subprocess.Popen(
        shlex.split(unit["ExecStart"][0]),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    servers: list[StdioServer] = []
    try:
        wait_healthy(paths)
        pid = service.pid
        servers = [StdioServer(sim_env(data_dir)) for _ in range(2)]
        for server in servers:
            server.initialize()
            assert server.wait_bridge() == pid
        client = _control(paths)

        def status() -> BridgeStatus:
            return asyncio.run(client.call("GET", "/api/status", BridgeStatus))

        wait_for(lambda: status().attached_clients == 2, 30, "two attached servers")
        assert status().pid == pid
        for server in servers:
            server.close()
        wait_for(lambda: status().attached_clients == 0, 30, "both servers detached")
        assert service.poll() is None and bridge_processes(data_dir) == [pid]

        state = asyncio.run(
            client.call(
                "POST",
                "/api/autoreply/rules",
                AutoReplyState,
                SetAutoReplyRequest(chat=TOM, enabled=True, mode="static", static_text="Away"),
            )
        )
        assert any(r.chat == TOM and r.enabled for r in state.rules)
        asyncio.run(
            client.call(
                "POST",
                "/api/simulate/inbound",
                InboundResponse,
                InboundRequest(sender=TOM, text="Are you around?"),
            )
        )
        wait_for(lambda: _auto_replies(paths) == ["Away"], 30, "the auto-reply")
        assert holder_pid(paths.lock) == pid

        # The person's view, and the kill switch without the assistant.
        shown = _cli(data_dir, "status").stdout
        assert "service:   systemd" in shown and f"running (pid {pid}" in shown
        assert f"  {TOM}: on, static, until no expiry, 1 replies today" in shown
        assert "auto-reply: 1 rule(s) on" in shown and "kill switch:" in shown
        off = _cli(data_dir, "autoreply", "off", "--all")
        assert off.returncode == 0 and "every auto-reply rule is off" in off.stdout, off
        assert "auto-reply: 0 rule(s) on" in _cli(data_dir, "status").stdout
        assert _cli(data_dir, "stop").returncode == 1  # a service's bridge: use its manager
        assert service.poll() is None

        # The service stops (systemctl --user stop): a server neither restarts nor replaces it.
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=20) == 0
        late = StdioServer(sim_env(data_dir))
        servers.append(late)
        late.initialize()
        r = late.request(
            "tools/call", {"name": "send_message", "arguments": {"to": TOM, "text": "x"}}
        )
        text = str(r)
        assert "service" in text and "systemd" in text, text
        assert bridge_processes(data_dir) == []
    finally:
        for server in servers:
            server.close()
        if service.poll() is None:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=20)


@pytest.mark.parametrize("platform", ["linux", "macos"])
def test_uninstall_dry_run_names_what_it_would_undo(data_dir: Path, platform: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mcp_server",
            "service",
            "uninstall",
            "--dry-run",
            "--platform",
            platform,
        ],  # fmt: skip
        env=_cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    assert "would remove" in done.stdout
    assert ("systemctl" if platform == "linux" else "launchctl bootout") in done.stdout


def _fake_systemctl(bin_dir: Path) -> Path:
    """systemctl at the OS edge: records its arguments and succeeds, as a user session's does."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    calls = bin_dir / "calls.txt"
    script = bin_dir / "systemctl"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 0\n')
    script.chmod(0o755)
    return calls


def test_install_and_uninstall_write_load_and_remove_the_unit(
    data_dir: Path, tmp_path: Path
) -> None:
    calls = _fake_systemctl(tmp_path / "bin")
    config = tmp_path / "config"
    env = {
        **_cli_env(data_dir),
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "XDG_CONFIG_HOME": str(config),
        "GEMINI_API_KEY": "secret-key-for-test",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcp_server", "service", *args, "--platform", "linux"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )

    done = run("install")
    assert done.returncode == 0, done.stderr
    unit = config / "systemd" / "user" / "whatsapp-mcp-bridge.service"
    assert unit.stat().st_mode & 0o777 == 0o600
    assert "secret-key-for-test" not in unit.read_text()
    secrets = data_dir / "service.env"
    assert secrets.read_text() == "GEMINI_API_KEY=secret-key-for-test\n"
    assert secrets.stat().st_mode & 0o777 == 0o600
    assert calls.read_text().splitlines() == [
        "--user daemon-reload",
        "--user enable --now whatsapp-mcp-bridge.service",
    ]
    assert '"manager": "systemd"' in (data_dir / "service.json").read_text()
    shown = run("status")
    assert shown.returncode == 0 and f"systemd service: {unit}" in shown.stdout
    assert "stop it with: systemctl --user stop whatsapp-mcp-bridge" in shown.stdout

    done = run("uninstall")
    assert done.returncode == 0, done.stderr
    assert not unit.exists() and not secrets.exists()
    assert not (data_dir / "service.json").exists()
    assert calls.read_text().splitlines()[-2:] == [
        "--user disable --now whatsapp-mcp-bridge.service",
        "--user daemon-reload",
    ]


def test_a_uvx_interpreter_is_not_made_into_a_service() -> None:
    from mcp_server.commands.service import ephemeral_interpreter

    assert ephemeral_interpreter("/home/u/.cache/uv/archive-v0/Ab12/bin/python")
    assert not ephemeral_interpreter("/home/u/.local/pipx/venvs/whatsapp-mcp-neonize/bin/python")
    assert not ephemeral_interpreter(sys.executable)
