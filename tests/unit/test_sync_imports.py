"""Dependencies point one way: `sync/` owns its tables and knows `crypto/`, never `server/`."""

from __future__ import annotations

import ast

from tests.conftest import ROOT


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_sync_imports_nothing_from_server() -> None:
    files = sorted((ROOT / "sync").rglob("*.py"))
    assert files
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in _imports(ast.parse(path.read_text(), str(path)))
        if name == "server" or name.startswith("server.")
    }
    assert not found, found
