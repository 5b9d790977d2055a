"""`dev.py` on an interpreter that is too old, and with a `.venv` made by another Python."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]

# A fake Python 3.9: the real interpreter reporting 3.9.18, running dev.py as `python3 dev.py`.
_FAKE_OLD = """
import runpy, sys
sys.version_info = (3, 9, 18, "final", 0)
sys.argv = [sys.argv[1], "demo"]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _copy_dev(tmp: Path) -> Path:
    shutil.copy2(ROOT / "dev.py", tmp / "dev.py")
    return tmp / "dev.py"


def test_an_old_python_gets_one_line_and_nothing_is_created(tmp_path: Path) -> None:
    dev = _copy_dev(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _FAKE_OLD, str(dev)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Python 3.11 or newer" in lines[0] and "3.9" in lines[0]
    assert "brew install" in lines[0]
    assert done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev.py"]


def _load(dev: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_copy", dev)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_venv_made_by_another_python_is_replaced(tmp_path: Path) -> None:
    dev = _load(_copy_dev(tmp_path))
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.9.6\n")
    (venv / "bin" / "python").write_text("")
    assert dev.venv_python_version() == "3.9"
    dev.replace_foreign_venv()
    assert not venv.exists()


def test_a_venv_of_this_python_is_kept(tmp_path: Path) -> None:
    dev = _load(_copy_dev(tmp_path))
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    mine = "{}.{}.{}".format(*sys.version_info[:3])
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion_info = {mine}\n")
    (venv / "bin" / "python").write_text("")
    dev.replace_foreign_venv()
    assert venv.exists()
