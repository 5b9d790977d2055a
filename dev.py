#!/usr/bin/env python3
"""Bootstrap and run whatsapp-mcp on a machine that has only python3.

    python3 dev.py demo    # install into .venv, then run the guided demo on a simulated WhatsApp
    python3 dev.py test    # install into .venv with test extras, then lint, type-check and test
    python3 dev.py serve   # install, then run the stdio MCP server (what Claude Desktop starts)

Anything after the subcommand is passed on (to pytest for `test`, to whatsapp-mcp otherwise).
"""

from __future__ import annotations

import ctypes.util
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def log(msg: str) -> None:
    sys.stderr.write(f"[dev] {msg}\n")
    sys.stderr.flush()


def run(*cmd: str | Path, check: bool = True) -> int:
    log(" ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=check).returncode


def ensure_libmagic() -> None:
    # neonize imports python-magic, which needs the system libmagic at import time.
    if sys.platform != "linux" or ctypes.util.find_library("magic"):
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        run("apt-get", "update", "-q", check=False)
        run("apt-get", "install", "-y", "-q", "libmagic1", check=False)
    else:
        log("libmagic is missing: install it (Debian/Ubuntu: apt-get install libmagic1)")


def ensure_venv(extras: str) -> None:
    stamp = VENV / f".installed-{extras or 'base'}"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == want and PY.exists():
        return
    if not PY.exists():
        log(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", target)
    stamp.write_text(want)


def cmd_test(args: list[str]) -> int:
    ensure_libmagic()
    ensure_venv("test")
    steps: list[list[str | Path]] = [
        [PY, "-m", "ruff", "format", "--check", "."],
        [PY, "-m", "ruff", "check", "."],
        [PY, "-m", "pyright", "--pythonpath", PY],
    ]
    for step in steps:
        if run(*step, check=False) != 0:
            log(f"FAILED: {' '.join(str(s) for s in step)}")
            return 1
    rc = run(PY, "-m", "pytest", *args, check=False)
    if rc == 5:
        log("pytest collected no tests: that is a failure")
        return 1
    return rc


def cmd_app(name: str, args: list[str]) -> int:
    ensure_libmagic()
    ensure_venv("")
    return run(BIN / "whatsapp-mcp", name, *args, check=False)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] in {"-h", "--help"}:
        sys.stderr.write(__doc__ or "")
        return 2
    sub, rest = sys.argv[1], sys.argv[2:]
    if sub == "test":
        return cmd_test(rest)
    return cmd_app(sub, rest)


if __name__ == "__main__":
    sys.exit(main())
