"""The bottom layers stay at the bottom: protocol/ and codecs/ import only errors.py of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dasf_jupyter"

#: imports that break the rule today, to be removed (not added to)
KNOWN = {
    # attachments sit between the codecs and the binary body; moving them is another step
    ("codecs/attachments.py", "protocol"),
}


def _imports(path: Path) -> set[str]:
    """Our top-level modules (``..x`` → ``x``) and third-party roots that ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level >= 2:
            found.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("protocol", {"django", "channels", "dasf_jupyter", "broker", "client", "transport"}),
        ("codecs", {"django", "channels", "dasf_jupyter", "broker", "client", "protocol"}),
    ],
)
def test_a_bottom_layer_imports_nothing_above_it(folder, forbidden):
    breaks = {
        (f"{folder}/{path.name}", module)
        for path in sorted((PACKAGE / folder).glob("*.py"))
        for module in _imports(path) & forbidden
    }
    assert breaks - KNOWN == set()


def test_the_walk_sees_relative_imports():
    assert "errors" in _imports(PACKAGE / "protocol" / "names.py")
