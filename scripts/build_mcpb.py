#!/usr/bin/env python3
"""Build the Claude Desktop bundle (`.mcpb`) and `server.json` from this repository.

    python3 scripts/build_mcpb.py            # dist/whatsapp-mcp-neonize-<version>.mcpb
    python3 scripts/build_mcpb.py --check    # stage, `mcpb validate` and `mcpb pack` (CI)
    python3 scripts/build_mcpb.py --repository https://github.com/OWNER/NAME   # + server.json

The bundle is the `uv` server type: it carries the source packages and pyproject.toml (about
100 KB) and the host's uv installs Python and the pinned dependencies per machine, so one bundle
covers macOS, Windows and Linux (neonize ships a different binary wheel for each). The official
`@anthropic-ai/mcpb` CLI from npm validates the manifest and packs the zip; without node/npm the
script says so in one line and exits 0 with nothing built (CI runs where npm exists).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MCPB_CLI = "@anthropic-ai/mcpb@2.1.2"
PACKAGES = ("store", "bridge", "mcp_server")
DISTRIBUTION = "whatsapp-mcp-neonize"
ENTRY_POINT = "server/main.py"
# Desktop wants space-separated semver here, not PEP 440 commas (see the packaging notes).
PYTHON_RANGE = ">=3.11 <3.14"


def project_version() -> str:
    # A regex, not tomllib: it needs nothing beyond the standard library of any Python.
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    if found is None:
        raise SystemExit("pyproject.toml has no version line")
    return found.group(1)


def manifest(version: str, repository: str | None = None) -> dict[str, object]:
    links: dict[str, object] = {}
    if repository:
        links = {"repository": {"type": "git", "url": repository}, "homepage": repository}
    return {
        "manifest_version": "0.4",
        "name": DISTRIBUTION,
        "display_name": "WhatsApp",
        "version": version,
        "description": "Read, search and answer your own WhatsApp chats from Claude.",
        "long_description": (
            "Links to your WhatsApp as a linked device (like WhatsApp Web). Messages stay in a "
            "local SQLite file; every send passes one safety gate (recipient policy, rate "
            "limits, audit). Optional auto-reply with Gemini, off by default."
        ),
        "author": {"name": "whatsapp-mcp contributors"},
        **links,
        "license": "MIT",
        "keywords": ["whatsapp", "messaging", "chat", "mcp"],
        "server": {
            "type": "uv",
            "entry_point": ENTRY_POINT,
            "mcp_config": {
                "command": "uv",
                "args": ["run", "--directory", "${__dirname}", ENTRY_POINT, "serve"],
                "env": {
                    "WHATSAPP_MCP_DATA_DIR": "${user_config.data_dir}",
                    "WHATSAPP_MCP_SEND_POLICY": "${user_config.send_policy}",
                    "GEMINI_API_KEY": "${user_config.gemini_api_key}",
                },
            },
        },
        "user_config": {
            "data_dir": {
                "type": "directory",
                "title": "Data folder",
                "description": "Where messages and the WhatsApp session are kept. Leave empty "
                "for the default, the same folder `whatsapp-mcp login` uses.",
                "required": False,
            },
            "send_policy": {
                "type": "string",
                "title": "Who may receive messages",
                "description": "contacts (saved contacts and groups you wrote in), known (also "
                "anyone who wrote to you) or any.",
                "required": False,
                "default": "contacts",
            },
            "gemini_api_key": {
                "type": "string",
                "title": "Gemini API key (optional)",
                "description": "Only for auto-replies written by Gemini. Stored by Claude "
                "Desktop in the system keychain.",
                "required": False,
                "sensitive": True,
            },
        },
        "compatibility": {
            "platforms": ["darwin", "win32", "linux"],
            "runtimes": {"python": PYTHON_RANGE},
        },
    }


def registry_name(repository: str) -> str:
    """`io.github.<owner>/<repo>` for a GitHub URL (the registry's namespace rule)."""
    found = re.match(r"https://github\.com/([^/]+)/([^/.]+)", repository)
    if found is None:
        raise SystemExit(f"--repository {repository}: give the https://github.com/OWNER/NAME URL")
    return f"io.github.{found.group(1)}/{found.group(2)}"


def server_json(version: str, repository: str, sha256: str | None) -> dict[str, object]:
    """The MCP registry entry: the PyPI package (uvx) and the bundle of the GitHub release."""
    packages: list[dict[str, object]] = [
        {
            "registryType": "pypi",
            "identifier": DISTRIBUTION,
            "version": version,
            "runtimeHint": "uvx",
            "transport": {"type": "stdio"},
        }
    ]
    if sha256:
        packages.append(
            {
                "registryType": "mcpb",
                "identifier": f"{repository}/releases/download/v{version}/"
                f"{DISTRIBUTION}-{version}.mcpb",
                "fileSha256": sha256,
                "transport": {"type": "stdio"},
            }
        )
    return {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": registry_name(repository),
        "description": "Read, search and answer your own WhatsApp chats.",
        "repository": {"url": repository, "source": "github"},
        "version": version,
        "packages": packages,
    }


def stage(dest: Path, version: str, repository: str | None) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    (dest / "server").mkdir()
    shutil.copy2(ROOT / "packaging" / "bundle_main.py", dest / ENTRY_POINT)
    (dest / ".python-version").write_text("3.12\n", encoding="utf-8")
    (dest / ".mcpbignore").write_text(".venv/\n__pycache__/\n", encoding="utf-8")
    text = json.dumps(manifest(version, repository), indent=2) + "\n"
    (dest / "manifest.json").write_text(text, encoding="utf-8")


def mcpb_command() -> list[str] | None:
    npx = shutil.which("npx")
    return None if npx is None else [npx, "--yes", MCPB_CLI]


def run(cmd: list[str]) -> None:
    sys.stderr.write("[mcpb] " + " ".join(cmd) + "\n")
    subprocess.run(cmd, check=True, timeout=600)


def sha256_of(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out_dir: Path, repository: str | None = None) -> Path | None:
    """Stage, validate and pack; the bundle's path, or None when npm is missing. With the
    repository's GitHub URL, also `server.json` for the MCP registry."""
    cli = mcpb_command()
    if cli is None:
        sys.stderr.write(
            "[mcpb] SKIPPED: node/npm not found, so the bundle cannot be validated or packed "
            "(Debian/Ubuntu: apt-get install nodejs npm; macOS: brew install node)\n"
        )
        return None
    version = project_version()
    out_dir.mkdir(parents=True, exist_ok=True)
    bundle = out_dir / f"{DISTRIBUTION}-{version}.mcpb"
    with tempfile.TemporaryDirectory(prefix="mcpb-stage-") as tmp:
        staged = Path(tmp) / "bundle"
        staged.mkdir()
        stage(staged, version, repository)
        run([*cli, "validate", str(staged / "manifest.json")])
        bundle.unlink(missing_ok=True)
        run([*cli, "pack", str(staged), str(bundle)])
    sys.stderr.write(f"[mcpb] built {bundle}\n")
    if repository:
        text = json.dumps(server_json(version, repository, sha256_of(bundle)), indent=2) + "\n"
        (out_dir / "server.json").write_text(text, encoding="utf-8")
        sys.stderr.write(f"[mcpb] wrote {out_dir / 'server.json'}\n")
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Claude Desktop bundle (.mcpb).")
    parser.add_argument("--out", default=str(ROOT / "dist"), help="output folder (dist/)")
    parser.add_argument(
        "--repository",
        default=None,
        help="the project's https://github.com/OWNER/NAME URL: links in the manifest, and "
        "server.json for the MCP registry (release assets are looked up there)",
    )
    parser.add_argument(
        "--check", action="store_true", help="build into a temporary folder (CI): nothing kept"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            with tempfile.TemporaryDirectory(prefix="mcpb-check-") as tmp:
                build(Path(tmp), args.repository)
        else:
            build(Path(args.out), args.repository)
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(f"[mcpb] FAILED: {' '.join(map(str, exc.cmd))} exited {exc.returncode}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
