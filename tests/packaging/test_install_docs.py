"""The user's manual on installing: every OS, the bundle, the service, upgrading, backup and
uninstall, and no command that installs by a name this project does not own."""

from __future__ import annotations

import json
import re
from pathlib import Path, PureWindowsPath

from bridge.control.advice import ADVICE
from bridge.control.versions import DISTRIBUTION, UPGRADE_COMMAND
from bridge.transport.protocol import ConnectionState

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

# pip/pipx/uv/uvx installing or running a package literally named whatsapp-mcp (PyPI: not ours).
_FOREIGN = re.compile(
    r"\b(?:pip3?|pipx|uv(?:\s+pip|\s+tool)?|uvx)\s+(?:install|run|inject)?\s*"
    r"(?:-[-\w]+\s+)*(?:--from\s+|--spec\s+)?whatsapp-mcp(?![-\w/.])"
)


def _texts() -> dict[str, str]:
    files = [ROOT / "README.md", *ROOT.glob("*.json"), *(ROOT / "bridge").rglob("*.py")]
    files += [*(ROOT / "mcp_server").rglob("*.py"), *(ROOT / "store").rglob("*.py")]
    files += [ROOT / "dev.py", ROOT / "pyproject.toml", *(ROOT / "benchmarks").rglob("*.md")]
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in files}


def test_no_instruction_installs_a_name_we_do_not_own() -> None:
    hits = {
        name: [m.group(0) for m in _FOREIGN.finditer(text)]
        for name, text in _texts().items()
        if _FOREIGN.search(text)
    }
    assert hits == {}
    assert f'name = "{DISTRIBUTION}"' in (ROOT / "pyproject.toml").read_text()
    assert "pip install" not in ADVICE[ConnectionState.outdated]
    assert UPGRADE_COMMAND in ADVICE[ConnectionState.outdated]


def test_the_pattern_catches_the_old_upgrade_line() -> None:
    for bad in ("pip install -U whatsapp-mcp", "uvx whatsapp-mcp", "pipx install whatsapp-mcp"):
        assert _FOREIGN.search(bad), bad
    for fine in ("pipx install whatsapp-mcp-neonize", "uvx --from /path/to/clone whatsapp-mcp"):
        assert not _FOREIGN.search(fine), fine


def test_the_readme_covers_install_per_os_bundle_service_upgrade_backup_uninstall() -> None:
    headings = set(re.findall(r"^#{2,3} (.+)$", README, flags=re.MULTILINE))
    for needed in (
        "Install",
        "Where your data lives",
        "The bundle (one click)",
        "Keeping it running (the bridge as a service)",
        "Upgrading",
        "Backup",
        "Uninstall",
    ):
        assert needed in headings, needed
    for os_name in ("Debian/Ubuntu", "macOS", "Windows"):
        assert f"| {os_name} |" in README
    assert "brew install libmagic" in README and "apt-get install libmagic1" in README
    assert r"%LOCALAPPDATA%\whatsapp-mcp" in README
    assert "~/Library/Application Support/whatsapp-mcp" in README


def test_the_windows_example_config_uses_absolute_windows_paths() -> None:
    config = json.loads(
        (ROOT / "claude_desktop_config.windows.example.json").read_text(encoding="utf-8")
    )
    for server in config["mcpServers"].values():
        assert PureWindowsPath(server["command"]).is_absolute()
        assert server["command"].endswith(".exe")
        # One data dir per platform, shared with the CLI: no config needs to name it.
        assert "WHATSAPP_MCP_DATA_DIR" not in server.get("env", {})
