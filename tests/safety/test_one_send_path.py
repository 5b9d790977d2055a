"""Only bridge/send/sender.py calls a transport's send methods, and there only through the gate."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEND_METHODS = {"send_text", "send_media", "send_reaction", "mark_read", "set_typing"}
# The transports implement these methods; they do not call another transport's.
IMPLEMENTATIONS = {
    "bridge/transport/protocol.py",
    "bridge/transport/simulated/network.py",
    "bridge/transport/neonize/client.py",
}


def transport_calls(tree: ast.AST) -> list[ast.Call]:
    """Calls like `self.transport.send_text(…)` or `transport.mark_read(…)`."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SEND_METHODS
            and "transport" in ast.unparse(node.func.value).lower()
        ):
            found.append(node)
    return found


def package_files() -> list[Path]:
    files = []
    for package in ("bridge", "mcp_server", "store"):
        files.extend(sorted((ROOT / package).rglob("*.py")))
    return files


def test_no_module_but_the_sender_calls_transport_send_methods() -> None:
    offenders = []
    for path in package_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel == "bridge/send/sender.py" or rel in IMPLEMENTATIONS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{rel}:{c.lineno}: {ast.unparse(c)[:80]}" for c in transport_calls(tree)]
        # getattr(transport, "send_text") would dodge the check above.
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in SEND_METHODS
                and "transport" in ast.unparse(node.args[0]).lower()
            ):
                offenders.append(f"{rel}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert not offenders, "transport sends outside bridge/send/sender.py:\n" + "\n".join(offenders)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def test_every_transport_call_in_the_sender_runs_inside_deliver() -> None:
    tree = ast.parse((ROOT / "bridge/send/sender.py").read_text(encoding="utf-8"))
    calls = transport_calls(tree)
    assert len(calls) >= 3, "the check must see the sender's own transport calls"
    parents = _parents(tree)
    for call in calls:
        node: ast.AST = call
        deferred = False  # inside a lambda or nested def handed to _deliver
        while not (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and isinstance(parents.get(node), ast.ClassDef)
        ):
            node = parents[node]
            deferred = deferred or isinstance(
                node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)
            )
        method = node
        assert method.name != "_deliver", "the gate's own body must not call the transport"
        delivers = [
            c
            for c in ast.walk(method)
            if isinstance(c, ast.Call)
            and isinstance(c.func, ast.Attribute)
            and c.func.attr == "_deliver"
        ]
        assert deferred and delivers, (
            f"sender.py:{call.lineno} calls the transport outside a thunk passed to _deliver"
        )
