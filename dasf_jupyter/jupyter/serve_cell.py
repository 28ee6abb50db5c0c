"""Turn a notebook cell into a Python module whose functions and classes can be served."""

from __future__ import annotations

import ast
import builtins
import linecache
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..backend.members import served_members
from ..errors import DasfError, MemberSchemaError

#: prefix of the ``sys.modules`` names of cell modules (``dasf_cell_<topic>``)
MODULE_PREFIX = "dasf_cell_"


class CellModuleError(DasfError):
    """The cell cannot become a module (syntax error, nothing to serve, unknown names)."""


@dataclass(frozen=True)
class ExternalName:
    """A name the cell uses but does not define, resolved in the notebook's namespace."""

    name: str
    value: Any
    import_line: str | None  #: how a standalone file gets it; ``None`` if it cannot


@dataclass
class CellModule:
    """The executed cell: source, module object, the members to serve and outside names."""

    topic: str
    source: str
    module: types.ModuleType
    members: list[Callable | type]
    description: str | None
    externals: list[ExternalName] = field(default_factory=list)

    @property
    def member_names(self) -> list[str]:
        return [m.__name__ for m in self.members]


def module_name(topic: str) -> str:
    """The ``sys.modules`` name of the cell module served on ``topic``."""
    return MODULE_PREFIX + re.sub(r"\W", "_", topic)


def cell_filename(topic: str) -> str:
    """The file name tracebacks show for the code of the cell module on ``topic``."""
    return f"<dasf module {topic}>"


def defined_names(tree: ast.Module) -> set[str]:
    """Names bound anywhere at the top level of the cell (defs, assignments, imports …)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def used_names(tree: ast.Module) -> set[str]:
    """Names the cell reads."""
    return {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def import_line(name: str, value: Any) -> str | None:
    """An import statement that binds ``name`` to ``value`` in a fresh module, if there is one."""
    if isinstance(value, types.ModuleType):
        full = value.__name__
        if full == name:
            return f"import {full}"
        parent, _, last = full.rpartition(".")
        if parent and last == name:
            return f"from {parent} import {last}"
        return f"import {full} as {name}"
    owner = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(owner, str) or not isinstance(qualname, str) or "." in qualname:
        return None
    if owner in ("__main__", "builtins") or owner.startswith(MODULE_PREFIX):
        return None  # defined in the notebook itself: a file cannot import it
    if getattr(sys.modules.get(owner), qualname, None) is not value:
        return None
    return f"from {owner} import {qualname}" + (f" as {name}" if name != qualname else "")


def resolve_externals(tree: ast.Module, namespace: dict[str, Any]) -> list[ExternalName]:
    """The names the cell reads from the notebook namespace (imports made in other cells)."""
    missing = used_names(tree) - defined_names(tree) - set(dir(builtins))
    found = []
    for name in sorted(missing):
        if name in namespace:
            value = namespace[name]
            found.append(ExternalName(name, value, import_line(name, value)))
    return found


def build_cell_module(
    topic: str, source: str, namespace: dict[str, Any], description: str | None = None
) -> CellModule:
    """Run ``source`` in a fresh module (registered in ``sys.modules``) and pick its members.

    Names the cell reads but does not define (``np`` imported in an earlier cell) are taken
    from ``namespace``; the cell cannot change the notebook's variables.
    """
    filename = cell_filename(topic)
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise CellModuleError(
            f"the cell has a syntax error on line {exc.lineno}: {exc.msg}"
        ) from None
    externals = resolve_externals(tree, namespace)
    name = module_name(topic)
    module = types.ModuleType(name, ast.get_docstring(tree))
    module.__dict__.update({e.name: e.value for e in externals})
    previous = sys.modules.get(name)
    # registered before running: pydantic and typing resolve annotations through sys.modules
    sys.modules[name] = module
    try:
        # tracebacks show the cell's own lines (linecache keeps entries without mtime)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(tree, filename, "exec")
        exec(code, module.__dict__)  # noqa: S102 - the user's own cell, run as IPython would
        try:
            members = served_members(module)
        except MemberSchemaError as exc:
            raise CellModuleError(f"the cell: {exc}") from None
    except BaseException:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        raise
    return CellModule(topic, source, module, members, description or module.__doc__, externals)
