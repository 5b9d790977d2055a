#!/usr/bin/env python3
"""Bootstrap and run whatsapp-mcp on a machine that has only python3.

    python3 dev.py demo    # install into .venv, then run the guided demo on a simulated WhatsApp
    python3 dev.py test    # install into .venv with test extras, then lint, type-check and test
    python3 dev.py serve   # install, then run the stdio MCP server (what Claude Desktop starts)

Anything after the subcommand is passed on (to pytest for `test`, to whatsapp-mcp otherwise).

Written for any python3 (even the 3.9 macOS ships): it checks the version first, in one line,
before it creates or touches anything.
"""

# No `from __future__` and no newer syntax above the version check: an old interpreter must reach
# it and print one line, not a SyntaxError.
import sys

# google-genai (auto-reply) needs 3.11: its metadata says Requires-Python >=3.11.
MIN_PYTHON = (3, 11)


def check_python():
    if sys.version_info < MIN_PYTHON:
        major, minor = sys.version_info[:2]
        sys.stderr.write(
            f"[dev] whatsapp-mcp needs Python 3.11 or newer; this is {major}.{minor} "
            f"({sys.executable}). Install a newer one (macOS: brew install python@3.12; Windows: "
            "python.org; Debian/Ubuntu: apt-get install python3) and run dev.py with it, e.g. "
            "python3.12 dev.py demo\n"
        )
        sys.exit(2)


check_python()

import ctypes.util  # noqa: E402
import hashlib  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import venv  # noqa: E402
from pathlib import Path  # noqa: E402

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
    if ctypes.util.find_library("magic"):
        return
    if sys.platform == "darwin":
        log("libmagic is missing: install it with Homebrew: brew install libmagic")
    elif sys.platform == "win32":
        log("libmagic is missing: .venv\\Scripts\\pip install python-magic-bin")
    elif shutil.which("apt-get") and os.geteuid() == 0:
        run("apt-get", "update", "-q", check=False)
        run("apt-get", "install", "-y", "-q", "libmagic1", check=False)
    else:
        log("libmagic is missing: sudo apt-get install libmagic1 (Fedora: sudo dnf install file)")


def venv_python_version() -> str | None:
    """The X.Y of the interpreter `.venv` was made with (from pyvenv.cfg), or None."""
    try:
        lines = (VENV / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            return ".".join(value.strip().split(".")[:2])
    return None


def replace_foreign_venv() -> None:
    """A `.venv` made by another Python (an old 3.9 attempt, or a different minor) breaks
    installs in confusing ways: remove it so it is made again with this interpreter."""
    if not VENV.exists():
        return
    made_with = venv_python_version()
    mine = "{}.{}".format(*sys.version_info[:2])
    if made_with == mine and PY.exists():
        return
    log(f"{VENV} was made with Python {made_with or 'unknown'}, not {mine}: recreating it")
    shutil.rmtree(VENV)


def ensure_venv(extras: str) -> None:
    stamp = VENV / f".installed-{extras or 'base'}"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    replace_foreign_venv()
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
    # The Claude Desktop bundle: built, validated and packed with the official mcpb CLI (it
    # skips in one line when node/npm is absent).
    steps.append([PY, ROOT / "scripts" / "build_mcpb.py", "--check"])
    for step in steps:
        if run(*step, check=False) != 0:
            log(f"FAILED: {' '.join(str(s) for s in step)}")
            return 1
    # The whole suite runs in worker processes, a test file per worker at a time: most tests
    # wait on a bridge or a server process, so four workers fit a 2-core machine. Given tests
    # (`dev.py test tests/x.py`) run the same way unless the caller picks `-n` or `-p no:xdist`.
    if not any(a.startswith("-n") or a == "no:xdist" for a in args):
        args = ["-n", "4", "--dist", "loadfile", *args]
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
