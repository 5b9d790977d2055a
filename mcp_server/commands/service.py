"""`whatsapp-mcp service install|uninstall|status [--dry-run]`: the bridge as a login service.

Linux: a systemd user unit; macOS: a launchd agent; Windows: the Task Scheduler line to run.
The service runs `python -m mcp_server bridge` with this installation's interpreter (stable for
pip, pipx and a checkout; a `uvx` cache path is not, so the README says to install with pipx
first). Restart only on failure: a clean exit (`systemctl --user stop`, logout) stays stopped.
A systemd unit never holds the Gemini key: it goes into `service.env` in the data dir (0600),
read by the unit's EnvironmentFile. launchd has no such file, so the agent plist carries it and
is written 0600.
"""

from __future__ import annotations

import argparse
import os
import plistlib
import shlex
import subprocess
import sys
from pathlib import Path

from bridge.control.lifecycle import (
    ServiceRecord,
    remove_service_record,
    service_record,
    write_service_record,
)
from bridge.paths import DataPaths, write_private
from bridge.settings import PASSTHROUGH_ENV_VARS, Settings
from mcp_server.commands.base import Command, UsageError, out, settings_for

UNIT_NAME = "whatsapp-mcp-bridge"
LAUNCHD_LABEL = "io.github.whatsapp-mcp.bridge"


def bridge_command(settings: Settings) -> list[str]:
    cmd = [sys.executable, "-m", "mcp_server", "bridge", "--data-dir", str(settings.data_dir)]
    if settings.simulate:
        cmd.append("--simulate")
    return cmd


# The environment as the user gave it, before `settings_for` filled in every default.
_USER_ENV: dict[str, str] = {}


def service_environment(settings: Settings) -> dict[str, str]:
    """What the service's bridge needs in its environment besides the data dir: the user's own
    WHATSAPP_MCP_* choices (defaults are not written, so upgrades can change them)."""
    env = {"WHATSAPP_MCP_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1"}
    if settings.simulate:
        env["WHATSAPP_MCP_SIMULATE"] = "1"
    for name, value in (_USER_ENV or os.environ).items():
        if name.startswith("WHATSAPP_MCP_") and name != "WHATSAPP_MCP_DATA_DIR":
            env[name] = value
    return env


def secrets_env() -> dict[str, str]:
    return {k: os.environ[k] for k in PASSTHROUGH_ENV_VARS if os.environ.get(k)}


def systemd_unit(settings: Settings) -> str:
    paths = DataPaths(settings.data_dir)
    env_lines = "\n".join(
        f"Environment={shlex.quote(f'{k}={v}')}" for k, v in service_environment(settings).items()
    )
    return f"""[Unit]
Description=WhatsApp MCP bridge ({settings.data_dir})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart={shlex.join(bridge_command(settings))}
{env_lines}
EnvironmentFile=-{paths.root / "service.env"}
Restart=on-failure
RestartSec=10
UMask=0077
StandardOutput=append:{paths.log}
StandardError=append:{paths.log}

[Install]
WantedBy=default.target
"""


def launchd_plist(settings: Settings) -> bytes:
    paths = DataPaths(settings.data_dir)
    env = {**service_environment(settings), **secrets_env()}
    return plistlib.dumps(
        {
            "Label": LAUNCHD_LABEL,
            "ProgramArguments": bridge_command(settings),
            "EnvironmentVariables": env,
            "RunAtLoad": True,
            # Restart after a crash, not after a clean stop (launchctl bootout, logout).
            "KeepAlive": {"SuccessfulExit": False},
            "ThrottleInterval": 10,
            "Umask": 0o077,
            "StandardOutPath": str(paths.log),
            "StandardErrorPath": str(paths.log),
        }
    )


def schtasks_line(settings: Settings) -> str:
    run = subprocess.list2cmdline(bridge_command(settings))
    return f'schtasks /Create /SC ONLOGON /RL LIMITED /F /TN {UNIT_NAME} /TR "{run}"'


def _platform(args: argparse.Namespace) -> str:
    if args.platform:
        return args.platform
    if sys.platform == "darwin":
        return "macos"
    return "windows" if os.name == "nt" else "linux"


def unit_path(platform: str) -> Path:
    home = Path.home()
    if platform == "macos":
        return home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return config / "systemd" / "user" / f"{UNIT_NAME}.service"


def _run_manager(cmd: list[str]) -> None:
    out("$ " + shlex.join(cmd))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"`{shlex.join(cmd)}` could not run ({exc}); run it yourself") from exc
    if done.returncode != 0:
        raise UsageError(
            f"`{shlex.join(cmd)}` failed: {(done.stderr or done.stdout).strip()[:300]}"
        )


def ephemeral_interpreter(executable: str = sys.executable) -> bool:
    """A `uvx` run lives in uv's cache (`archive-v0/<hash>/`), which uv may clean at any time:
    a service pointing there breaks silently later."""
    return any(part in ("archive-v0", "builds-v0") for part in Path(executable).parts)


def _install(settings: Settings, platform: str, dry: bool) -> int:
    paths = DataPaths(settings.data_dir)
    if ephemeral_interpreter():
        raise UsageError(
            "this whatsapp-mcp runs from uv's cache (uvx), which can vanish; install it to stay "
            "with `pipx install /path/to/clone`, then run `whatsapp-mcp service install` again"
        )
    if platform == "windows":
        out("Run this once in a Command Prompt (set GEMINI_API_KEY with `setx` first if used):")
        out(schtasks_line(settings))
        return 0
    target = unit_path(platform)
    body = systemd_unit(settings).encode() if platform == "linux" else launchd_plist(settings)
    if dry:
        out(f"# would write {target}")
        sys.stdout.write(body.decode())
        sys.stdout.flush()
        return 0
    paths.ensure()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_private(target, body.decode())
    if platform == "linux":
        secrets = "".join(f"{k}={v}\n" for k, v in secrets_env().items())
        write_private(paths.root / "service.env", secrets)
        _run_manager(["systemctl", "--user", "daemon-reload"])
        _run_manager(["systemctl", "--user", "enable", "--now", f"{UNIT_NAME}.service"])
        stop = f"systemctl --user stop {UNIT_NAME}"
    else:
        domain = f"gui/{os.getuid()}"
        _run_manager(["launchctl", "bootstrap", domain, str(target)])
        stop = f"launchctl bootout {domain}/{LAUNCHD_LABEL}"
    manager = "systemd" if platform == "linux" else "launchd"
    write_service_record(
        paths, ServiceRecord(manager=manager, unit_path=str(target), stop_command=stop)
    )
    out(f"installed {target}; the bridge now runs at login and restarts after a crash")
    return 0


def _uninstall(settings: Settings, platform: str, dry: bool) -> int:
    paths = DataPaths(settings.data_dir)
    if platform == "windows":
        out(f"Run: schtasks /Delete /F /TN {UNIT_NAME}")
        return 0
    target = unit_path(platform)
    if platform == "linux":
        cmds = [
            ["systemctl", "--user", "disable", "--now", f"{UNIT_NAME}.service"],
            ["systemctl", "--user", "daemon-reload"],
        ]
    else:
        cmds = [["launchctl", "bootout", f"gui/{os.getuid()}/{LAUNCHD_LABEL}"]]
    if dry:
        for cmd in cmds:
            out("would run: " + shlex.join(cmd))
        out(f"would remove {target}")
        return 0
    _run_manager(cmds[0])
    target.unlink(missing_ok=True)
    (paths.root / "service.env").unlink(missing_ok=True)
    for cmd in cmds[1:]:
        _run_manager(cmd)
    remove_service_record(paths)
    out(f"removed {target}; MCP servers start the bridge themselves again")
    return 0


def _status(settings: Settings, platform: str) -> int:
    record = service_record(DataPaths(settings.data_dir))
    if record is None:
        out("no service installed for this data dir (`whatsapp-mcp service install`)")
        return 1
    out(f"{record.manager} service: {record.unit_path}")
    if record.manager == "systemd":
        done = subprocess.run(
            ["systemctl", "--user", "is-active", f"{UNIT_NAME}.service"],
            capture_output=True,
            text=True,
        )
        out(f"state: {done.stdout.strip() or done.stderr.strip()}")
    out(f"stop it with: {record.stop_command}")
    return 0


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["install", "uninstall", "status"])
    p.add_argument("--dry-run", action="store_true", help="print what would be written and run")
    p.add_argument(
        "--platform",
        choices=["linux", "macos", "windows"],
        default=None,
        help="write for this OS instead of the current one (with --dry-run)",
    )


def _run(args: argparse.Namespace) -> int:
    _USER_ENV.clear()
    _USER_ENV.update(os.environ)
    settings = settings_for(args)
    platform = _platform(args)
    current = _platform(argparse.Namespace(platform=None))
    if platform != current and not args.dry_run:
        raise UsageError(f"--platform {platform} needs --dry-run on this {current} machine")
    if args.action == "install":
        return _install(settings, platform, args.dry_run)
    if args.action == "uninstall":
        return _uninstall(settings, platform, args.dry_run)
    return _status(settings, platform)


COMMAND = Command(
    "service", "run the bridge as a login service: install, uninstall or status", _run, _args
)
