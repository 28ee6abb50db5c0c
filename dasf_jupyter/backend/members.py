"""Find the functions and classes to serve in a Python file or importable module."""

from __future__ import annotations

import enum
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel

from .schema_params import SchemaError


def load_members(target: str) -> tuple[list[Callable | type], str | None]:
    """``'path/to/file.py'`` or ``'package.module'`` → (members, module docstring).

    The members are those :func:`served_members` picks.
    """
    module = _import_target(target)
    try:
        members = served_members(module)
    except SchemaError as exc:
        raise SchemaError(f"{target}: {exc}") from None
    return members, inspect.getdoc(module)


def served_members(module: ModuleType) -> list[Callable | type]:
    """The functions and classes a module serves: the one rule for files, modules and cells.

    The names in ``__all__`` if present, else the public functions and classes defined in
    that module (not imported ones; data types such as pydantic models, enums and exceptions
    are skipped since they cannot be called remotely). Raises :class:`SchemaError` when
    ``__all__`` names something missing or not callable, or when nothing is left to serve.
    """
    names = getattr(module, "__all__", None)
    if names is None:
        members = [m for n, m in vars(module).items() if _is_own_member(module, n, m)]
    else:
        missing = [n for n in names if not hasattr(module, n)]
        if missing:
            raise SchemaError(f"__all__ names {missing}, which are not defined")
        members = [getattr(module, n) for n in names]
        bad = [n for n, m in zip(names, members, strict=True) if not callable(m)]
        if bad:
            raise SchemaError(f"__all__ lists {bad}, which are not functions or classes")
    if not members:
        raise SchemaError(
            "found no public functions or classes to serve (define some, or list them in __all__)"
        )
    return members


def _is_own_member(module: ModuleType, name: str, obj: object) -> bool:
    if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
        return False
    if inspect.isfunction(obj):
        return True
    if inspect.isclass(obj):
        return not issubclass(obj, (BaseModel, enum.Enum, BaseException))
    return False


def _import_target(target: str) -> ModuleType:
    path = Path(target)
    if target.endswith(".py") or path.is_file():
        return _import_file(path)
    try:
        return importlib.import_module(target)
    except ImportError as exc:
        raise SchemaError(f"cannot import module {target!r}: {exc}") from None


def _import_file(path: Path) -> ModuleType:
    path = path.resolve()
    if not path.is_file():
        raise SchemaError(f"no such file: {path}")
    # a unique, stable name: two files called tools.py must not replace each other
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"dasf_served_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SchemaError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # registered before running so dataclasses/pydantic can resolve the module's own names
    sys.modules[name] = module
    # sibling imports (``import helpers``) work as when running the file as a script
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise SchemaError(f"importing {path} failed: {type(exc).__name__}: {exc}") from exc
    return module
