"""The import contract and the size rule hold for the source tree, tests/ mirrors it, and the
checkers catch a deliberate violation of each rule (so a green run means something)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.architecture import layout_violations, violations

ROOT = Path(__file__).resolve().parent.parent


def test_the_source_tree_keeps_the_import_contract() -> None:
    assert violations(ROOT) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in {
        "store/__init__.py": "",
        "bridge/__init__.py": "",
        "bridge/control/__init__.py": "",
        "bridge/transport/__init__.py": "",
        "mcp_server/__init__.py": "",
        **files,
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_clean_synthetic_tree_passes(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "store/models.py": "import json\n",
            "store/reader.py": "from store.models import json\nfrom . import models\n",
            "bridge/control/models.py": "from store import models\n",
            "bridge/transport/protocol.py": "from bridge.control.models import x\n",
            "bridge/daemon.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from bridge.routes import R\n"
            ),
            "bridge/routes.py": "from bridge.daemon import Bridge\n",
            "mcp_server/server.py": "from bridge.control import models\nimport bridge.paths\n",
            "store/tx.py": 'c.execute("BEGIN IMMEDIATE")\nc.execute(f"SAVEPOINT {n}")\n',
            "store/writer.py": 'c.execute("UPDATE t SET begin = 1")\n',
        },
    )
    assert violations(root) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"store/x.py": "from bridge.daemon import Bridge\n"}, "store imports nothing of ours"),
        ({"store/x.py": "import mcp_server.app\n"}, "store imports nothing of ours"),
        ({"mcp_server/x.py": "from bridge.main import EXIT\n"}, "mcp_server may import only"),
        ({"mcp_server/x.py": "from bridge import lock\n"}, "mcp_server may import only"),
        (
            {"bridge/control/x.py": "from bridge.transport.protocol import S\n"},
            "must not depend on the bridge",
        ),
        ({"bridge/x.py": "import neonize.client\n"}, "only bridge.transport.neonize"),
        ({"mcp_server/x.py": "from neonize.proto import N\n"}, "only bridge.transport.neonize"),
        ({"bridge/x.py": "from google import genai\n"}, "only bridge.autoreply.gemini"),
        ({"bridge/x.py": "import google.genai.types\n"}, "only bridge.autoreply.gemini"),
        (
            {"bridge/a.py": "import bridge.b\n", "bridge/b.py": "def f():\n    import bridge.a\n"},
            "import cycle: bridge.a <-> bridge.b",
        ),
        (
            {"bridge/a.py": "from . import b\n", "bridge/b.py": "from .a import thing\n"},
            "import cycle: bridge.a <-> bridge.b",
        ),
        ({"bridge/big.py": "x = 1\n" * 401}, "401 lines, over the limit of 400"),
        ({"store/x.py": 'c.execute("BEGIN IMMEDIATE")\n'}, "runs a transaction statement"),
        ({"bridge/x.py": 'c.execute(f"rollback to {n}")\n'}, "runs a transaction statement"),
    ],
)
def test_the_checker_fails_on_a_deliberate_violation(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    found = violations(_tree(tmp_path, files))
    assert any(expected in v for v in found), found


def test_the_allowlists_excuse_only_what_they_name(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"bridge/big.py": "x = 1\n" * 401, "bridge/huge.py": "x = 1\n" * 500})
    found = violations(root, oversize_allowed=("bridge.big",))
    assert found == ["bridge/huge.py: 500 lines, over the limit of 400"]


def test_every_test_folder_mirrors_a_source_package_or_is_a_cross_cutting_suite() -> None:
    assert layout_violations(ROOT) == []


# A test tree beside the synthetic source tree: a mirror, a suite with its data, and a cache.
TESTS = {
    "tests/__init__.py": "",
    "tests/test_architecture.py": "",
    "tests/bridge/__init__.py": "",
    "tests/bridge/control/__init__.py": "",
    "tests/bridge/control/test_channel.py": "",
    "tests/safety/__init__.py": "",
    "tests/safety/test_gate.py": "",
    "tests/safety/data/corpus.json": "{}",
    "tests/bridge/__pycache__/x.pyc": "",
}


def test_a_clean_synthetic_test_tree_passes(tmp_path: Path) -> None:
    assert layout_violations(_tree(tmp_path, TESTS)) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"tests/autoreply/__init__.py": "", "tests/autoreply/test_rules.py": ""},
            "tests/autoreply: neither the mirror of a source package nor a cross-cutting suite",
        ),
        (
            {"tests/bridge/sched/__init__.py": "", "tests/bridge/sched/test_fire.py": ""},
            "tests/bridge/sched: mirrors no source package",
        ),
        (
            {"tests/bridge/transport/test_protocol.py": ""},
            "tests/bridge/transport: no __init__.py",
        ),
        (
            {"tests/safety/attacks/__init__.py": ""},
            "tests/safety/attacks: a cross-cutting suite is one folder",
        ),
        (
            {"tests/bridge/test_gate.py": ""},
            "tests/bridge/test_gate.py and tests/safety/test_gate.py: two test modules",
        ),
    ],
)
def test_the_layout_check_fails_on_a_deliberate_violation(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    found = layout_violations(_tree(tmp_path, {**TESTS, **files}))
    assert any(expected in v for v in found), found
