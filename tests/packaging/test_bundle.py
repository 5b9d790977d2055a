"""The Claude Desktop bundle: built and validated with the official mcpb CLI, and its entry point
started the way the host starts a `uv` bundle, answering a real MCP client."""

from __future__ import annotations

import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from bridge.paths import DataPaths
from tests.helpers import stop_bridge

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import build_mcpb  # noqa: E402

REPOSITORY = "https://github.com/example-owner/whatsapp-mcp"
needs_npm = pytest.mark.skipif(
    shutil.which("npx") is None, reason="node/npm not installed: mcpb cannot run"
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npx") is None:
        pytest.skip("node/npm not installed: mcpb cannot run")
    built = build_mcpb.build(tmp_path_factory.mktemp("dist"), REPOSITORY)
    assert built is not None and built.exists()
    return built


def _substitute(value: str, dirname: Path, user: dict[str, str]) -> str:
    value = value.replace("${__dirname}", str(dirname))
    for key, got in user.items():
        value = value.replace(f"${{user_config.{key}}}", got)
    return value


@needs_npm
def test_the_manifest_uses_the_uv_type_a_spaced_python_range_and_a_secret_key(
    bundle: Path,
) -> None:
    with zipfile.ZipFile(bundle) as zf:
        manifest: dict[str, Any] = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
    assert manifest["server"]["type"] == "uv"
    assert {"pyproject.toml", "server/main.py", "mcp_server/cli.py"} <= names
    assert not any(n.startswith((".venv/", "server/lib/")) for n in names)
    python = manifest["compatibility"]["runtimes"]["python"]
    assert "," not in python and " " in python
    cfg = manifest["user_config"]
    assert cfg["gemini_api_key"]["sensitive"] is True
    assert cfg["data_dir"]["type"] == "directory" and not cfg["data_dir"]["required"]
    assert cfg["send_policy"]["default"] == "contacts"
    env = manifest["server"]["mcp_config"]["env"]
    assert env["GEMINI_API_KEY"] == "${user_config.gemini_api_key}"
    server = json.loads((bundle.parent / "server.json").read_text())
    kinds = {p["registryType"]: p for p in server["packages"]}
    assert kinds["pypi"]["identifier"] == "whatsapp-mcp-neonize"
    assert kinds["mcpb"]["fileSha256"] == build_mcpb.sha256_of(bundle)
    assert kinds["mcpb"]["identifier"].startswith(f"{REPOSITORY}/releases/download/v")
    assert server["name"] == "io.github.example-owner/whatsapp-mcp"


@needs_npm
@pytest.mark.anyio
async def test_the_entry_point_runs_with_uv_as_the_host_runs_it_and_answers_initialize(
    bundle: Path, tmp_path: Path
) -> None:
    unpacked = tmp_path / "extension"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(unpacked)
    manifest = json.loads((unpacked / "manifest.json").read_text())
    cfg = manifest["server"]["mcp_config"]
    data = tmp_path / "data"
    # What a user fills in: a data folder; send policy and Gemini key left empty.
    user = {"data_dir": str(data), "send_policy": "", "gemini_api_key": ""}
    uv_bin = Path(sys.executable).parent
    env = {
        # A GUI host's minimal environment, plus where uv lives; no PYTHONPATH, so the
        # bundle's own copy of the code is what runs.
        "PATH": f"{uv_bin}{os.pathsep}/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        # No WhatsApp from a test machine: the simulated one, everything else as shipped.
        "WHATSAPP_MCP_SIMULATE": "1",
        "UV_PYTHON": sys.executable,
        **{k: _substitute(v, unpacked, user) for k, v in cfg["env"].items()},
    }
    # This machine's network: its CA store and any proxy (a user's machine has its own).
    env["UV_NATIVE_TLS"] = "1"
    for name in ("UV_CACHE_DIR", "SSL_CERT_FILE", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"):
        if name in os.environ:
            env[name] = os.environ[name]
    params = StdioServerParameters(
        command=cfg["command"],
        args=[_substitute(a, unpacked, user) for a in cfg["args"]],
        env=env,
        cwd=str(tmp_path),
    )
    try:
        # The first run installs the dependencies into the bundle's environment.
        # mode="legacy": the `initialize` handshake, as Claude Desktop speaks it.
        async with Client(params, mode="legacy", read_timeout_seconds=600, cache=None) as client:
            assert client.server_info is not None and client.server_info.name
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"list_chats", "send_message"} <= names
    finally:
        await anyio.to_thread.run_sync(stop_bridge, DataPaths(data))
    assert (unpacked / ".venv").is_dir(), "uv did not build the bundle's own environment"
