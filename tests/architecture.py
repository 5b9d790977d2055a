"""The import contract, checked over the AST of every source module (no import is executed).

Rules (each violation is one line of the report):
- `store` imports nothing of ours;
- `mcp_server` imports of `bridge` only the contract: `bridge.control`, `bridge.settings`,
  `bridge.paths`;
- `bridge.control` (the contract) imports of `bridge` only itself, `bridge.settings` and
  `bridge.paths`, so the transport depends on it and never the other way;
- nothing outside `bridge/transport/neonize/` imports neonize;
- nothing outside `bridge/autoreply/gemini.py` imports google-genai;
- no import cycles among runtime imports (`if TYPE_CHECKING:` imports do not run, so they
  cannot form a cycle at import time and are left out of that rule);
- no module over `max_lines` lines, except the allowlisted ones.

And the layout of `tests/` (`layout_violations`): every folder under it is the mirror of a source
package folder (`tests/bridge/send` for `bridge/send`) or one of the cross-cutting `SUITES`, has an
`__init__.py`, and no two test modules share a basename. `__pycache__` and the `DATA_FOLDERS`
(files tests read, not tests) are not test folders.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("store", "bridge", "mcp_server")
CONTRACT = ("bridge.control", "bridge.settings", "bridge.paths")
NEONIZE_HOME = "bridge.transport.neonize"
GENAI_HOME = "bridge.autoreply.gemini"
# The one transaction helper: savepoints when nested, a rollback when COMMIT fails.
TX_HOME = "store.tx"
_TX_WORDS = {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"}
# Specifications that are about no one module: the README's Security section as attacks, crash and
# restart behaviour, performance budgets, and install and bundle.
SUITES = ("safety", "reliability", "perf", "packaging")
DATA_FOLDERS = ("data", "fixtures")


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    # (imported module, line, only under TYPE_CHECKING)
    imports: list[tuple[str, int, bool]] = field(default_factory=list)
    # Lines that run a transaction statement (`conn.execute("BEGIN …")`) themselves.
    tx_lines: list[int] = field(default_factory=list)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: Module, node: ast.ImportFrom, known: set[str]) -> list[str]:
    if node.level:
        base = module.name.split(".")
        is_package = module.path.name == "__init__.py"
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    ours = prefix.split(".")[0] in {k.split(".")[0] for k in known}
    out = []
    for alias in node.names:
        candidate = f"{prefix}.{alias.name}"
        # Ours: a submodule if there is one, else a name in `prefix`. Others: keep the name, so
        # `from google import genai` reads as google.genai.
        out.append(candidate if candidate in known or not ours else prefix)
    return out


def parse_tree(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            name = _module_name(root, path)
            modules[name] = Module(name, path, text.count("\n") + (not text.endswith("\n")))
    known = set(modules)
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
        guarded: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                for inner in node.body:
                    guarded.update(id(n) for n in ast.walk(inner))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports.append((alias.name, node.lineno, id(node) in guarded))
            elif isinstance(node, ast.ImportFrom):
                for target in _resolve(module, node, known):
                    module.imports.append((target, node.lineno, id(node) in guarded))
            elif _runs_tx_statement(node):
                module.tx_lines.append(node.lineno)
    return modules


def _runs_tx_statement(node: ast.AST) -> bool:
    """`<conn>.execute("BEGIN …")` and friends, with the statement written as a literal."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("execute", "executescript")
        and node.args
    ):
        return False
    first = node.args[0]
    text = first.value if isinstance(first, ast.Constant) else None
    if isinstance(first, ast.JoinedStr) and first.values:
        head = first.values[0]
        text = head.value if isinstance(head, ast.Constant) else None
    words = text.split() if isinstance(text, str) else []
    return bool(words) and words[0].upper() in _TX_WORDS


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _ours(name: str, packages: Iterable[str]) -> bool:
    return any(_within(name, p) for p in packages)


def _cycles(modules: dict[str, Module]) -> list[list[str]]:
    graph = {
        name: sorted({t for t, _, guarded in m.imports if t in modules and not guarded})
        for name, m in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # Tarjan's strongly connected components, iteratively
        nonlocal counter
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def violations(
    root: Path,
    *,
    packages: Iterable[str] = PACKAGES,
    max_lines: int = 400,
    oversize_allowed: Iterable[str] = (),
    cycles_allowed: Iterable[tuple[str, ...]] = (),
) -> list[str]:
    """Every broken rule in the tree at `root`, as readable lines (empty: the contract holds)."""
    packages = tuple(packages)
    modules = parse_tree(root, packages)
    allowed = set(oversize_allowed)
    out: list[str] = []
    for m in modules.values():
        where = f"{m.path.relative_to(root)}"
        for target, line in sorted({(t, n) for t, n, _ in m.imports}):
            at = f"{where}:{line} imports {target}"
            if (
                _within(m.name, "store")
                and _ours(target, packages)
                and not _within(target, "store")
            ):
                out.append(f"{at}: store imports nothing of ours")
            if (
                _within(m.name, "mcp_server")
                and _within(target, "bridge")
                and not any(_within(target, c) for c in CONTRACT)
            ):
                out.append(f"{at}: mcp_server may import only {', '.join(CONTRACT)} of bridge")
            if (
                _within(m.name, "bridge.control")
                and _within(target, "bridge")
                and not any(_within(target, c) for c in CONTRACT)
            ):
                out.append(f"{at}: the contract (bridge.control) must not depend on the bridge")
            if _within(target, "neonize") and not _within(m.name, NEONIZE_HOME):
                out.append(f"{at}: only {NEONIZE_HOME} may import neonize")
            if _within(target, "google.genai") and m.name != GENAI_HOME:
                out.append(f"{at}: only {GENAI_HOME} may import google-genai")
        if m.name != TX_HOME:
            for line in m.tx_lines:
                out.append(f"{where}:{line} runs a transaction statement: use {TX_HOME}")
        if m.lines > max_lines and m.name not in allowed:
            out.append(f"{where}: {m.lines} lines, over the limit of {max_lines}")
    allowed_cycles = {tuple(sorted(c)) for c in cycles_allowed}
    for cycle in _cycles(modules):
        if tuple(cycle) in allowed_cycles:
            continue
        out.append(f"import cycle: {' <-> '.join(cycle)}")
    return out


def _test_folders(folder: Path, data_folders: tuple[str, ...]) -> list[Path]:
    """Every folder below `folder`, except caches and data folders (and what is inside them)."""
    skip = {"__pycache__", *data_folders}
    out: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.is_dir() and path.name not in skip:
            out += [path, *_test_folders(path, data_folders)]
    return out


def _folder_problem(
    root: Path, rel: Path, packages: tuple[str, ...], suites: tuple[str, ...]
) -> str | None:
    top = rel.parts[0]
    if top in suites:
        if len(rel.parts) == 1:
            return None
        return "a cross-cutting suite is one folder (plus data folders), not a tree"
    if top in packages:
        if (root / rel / "__init__.py").is_file():
            return None
        return (
            f"mirrors no source package ({rel.as_posix()}/ has no __init__.py): put its tests in "
            "the folder of the module they specify"
        )
    return (
        "neither the mirror of a source package nor a cross-cutting suite "
        f"({', '.join(suites)}): put its tests in the folder of the module they specify"
    )


def _basename_clashes(tests: Path, folders: list[Path]) -> list[str]:
    seen: dict[str, list[str]] = {}
    for folder in [tests, *folders]:
        for path in sorted(folder.glob("test_*.py")):
            seen.setdefault(path.name, []).append(path.relative_to(tests.parent).as_posix())
    return [
        f"{' and '.join(paths)}: two test modules with one name"
        for paths in seen.values()
        if len(paths) > 1
    ]


def layout_violations(
    root: Path,
    *,
    packages: Iterable[str] = PACKAGES,
    suites: Iterable[str] = SUITES,
    data_folders: Iterable[str] = DATA_FOLDERS,
) -> list[str]:
    """Every broken layout rule in `root/tests`, as readable lines (empty: the layout holds)."""
    tests = root / "tests"
    folders = _test_folders(tests, tuple(data_folders))
    out: list[str] = []
    for folder in folders:
        rel = folder.relative_to(tests)
        where = f"tests/{rel.as_posix()}"
        problem = _folder_problem(root, rel, tuple(packages), tuple(suites))
        if problem:
            out.append(f"{where}: {problem}")
        if not (folder / "__init__.py").is_file():
            out.append(f"{where}: no __init__.py")
    return out + _basename_clashes(tests, folders)
