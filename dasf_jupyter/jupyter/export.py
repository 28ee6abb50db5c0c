"""Write a served cell as a standalone module file that ``dasf serve file.py`` serves."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

from .serve_cell import CellModule, CellModuleError, ExternalName

HEADER = """\
# Exported from a notebook by dasf-jupyter (%dasf export {topic}).
# Serve it with:  dasf serve {filename} --topic {topic} --url <broker url>
"""


def _literal_assignment(name: str, value: Any) -> str | None:
    """``NAME = <repr>`` for plain data whose repr reads back as an equal literal."""
    try:
        text = repr(value)
        if ast.literal_eval(text) == value:
            return f"{name} = {text}"
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        pass
    return None


def _notebook_source(name: str, value: Any) -> str | None:
    """The source of a function or class defined in another cell (IPython keeps cell text)."""
    if not (inspect.isfunction(value) or inspect.isclass(value)) or value.__name__ != name:
        return None
    try:
        return inspect.getsource(value).rstrip() + "\n"
    except (OSError, TypeError):
        return None


def external_definitions(externals: list[ExternalName]) -> tuple[list[str], list[str]]:
    """``(import lines, other definitions)`` that recreate the cell's outside names."""
    imports, definitions, unknown = [], [], []
    for ext in externals:
        if ext.import_line:
            imports.append(ext.import_line)
            continue
        text = _literal_assignment(ext.name, ext.value) or _notebook_source(ext.name, ext.value)
        if text is None:
            unknown.append(ext.name)
        else:
            definitions.append(text)
    if unknown:
        raise CellModuleError(
            f"cannot export: the cell uses {', '.join(unknown)} from the notebook, and a file "
            "cannot recreate them; define or import them inside the %%dasf module cell"
        )
    return imports, definitions


def render_module(cell: CellModule, filename: str = "module.py") -> str:
    """The text of a standalone module equivalent to the served cell."""
    tree = ast.parse(cell.source)
    parts: list[str] = []
    if ast.get_docstring(tree) is None and cell.description:
        parts.append('"""' + cell.description.replace('"""', r"\"\"\"") + '"""\n')
    parts.append(HEADER.format(topic=cell.topic, filename=Path(filename).name))
    imports, definitions = external_definitions(cell.externals)
    if imports:
        parts.append("\n".join(imports) + "\n")
    if definitions:
        parts.append("\n\n".join(definitions))
    parts.append(cell.source.rstrip() + "\n")
    if not _sets_all(tree):
        # explicit, so the file serves exactly what the kernel served
        parts.append(f"__all__ = {cell.member_names!r}\n")
    return "\n".join(parts)


def _sets_all(tree: ast.Module) -> bool:
    return any(
        isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign))
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in _targets(node))
        for node in tree.body
    )


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    return [node.target]  # type: ignore[attr-defined]


def export_module(cell: CellModule, path: str | Path) -> Path:
    """Write :func:`render_module` to ``path`` (parent folders created); return the path."""
    target = Path(path).expanduser()
    text = render_module(cell, target.name)
    compile(text, str(target), "exec")  # never write a file that does not even parse
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
