"""A cell becomes a module: member choice, outside names, export to a file that serves."""

from __future__ import annotations

import math
import os.path
import sys

import pytest

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.backend.members import load_members
from dasf_jupyter.backend.schema_params import SchemaError
from dasf_jupyter.jupyter.export import export_module, render_module
from dasf_jupyter.jupyter.serve_cell import (
    CellModuleError,
    build_cell_module,
    import_line,
    module_name,
)

CELL = '''\
"""Tools from a notebook."""
import json

def add(a: int, b: int = 1) -> int:
    """Add."""
    return a + b

def _helper():
    return 1

class Greeter:
    def __init__(self, name: str):
        self.name = name

    def greet(self) -> str:
        return "hi " + self.name

LIMIT = 3
'''


def test_cell_members_are_its_public_functions_and_classes():
    cell = build_cell_module("cell-a", CELL, {})
    assert cell.member_names == ["add", "Greeter"]  # not json, _helper or LIMIT
    assert cell.description == "Tools from a notebook."
    assert sys.modules[module_name("cell-a")] is cell.module
    assert cell.module.add(2) == 3


def test_all_selects_the_members():
    cell = build_cell_module("cell-b", CELL + "__all__ = ['Greeter']\n", {})
    assert cell.member_names == ["Greeter"]
    with pytest.raises(CellModuleError, match="not define"):
        build_cell_module("cell-b", CELL + "__all__ = ['missing']\n", {})


def test_names_from_other_cells_are_taken_from_the_namespace_without_changing_it():
    namespace = {"math": math, "FACTOR": 2, "join": os.path.join}
    source = "def f(x: float) -> float:\n    FACTOR2 = FACTOR\n    return math.sqrt(x) * FACTOR2\n"
    cell = build_cell_module("cell-c", source, namespace)
    assert cell.module.f(16.0) == 8.0
    assert {e.name for e in cell.externals} == {"math", "FACTOR"}
    assert "f" not in namespace


def test_import_lines_recreate_modules_and_importable_objects():
    import numpy as np

    assert import_line("np", np) == "import numpy as np"
    assert import_line("math", math) == "import math"
    assert import_line("path", os.path) in ("from os import path", "import posixpath as path")
    assert import_line("sqrt", math.sqrt) == "from math import sqrt"
    assert import_line("x", 5) is None


def test_bad_cells_fail_clearly_and_leave_the_previous_module():
    first = build_cell_module("cell-d", "def ok() -> int:\n    return 1\n", {})
    with pytest.raises(CellModuleError, match="syntax error on line 1"):
        build_cell_module("cell-d", "def broken(:\n", {})
    with pytest.raises(CellModuleError, match="no public functions"):
        build_cell_module("cell-d", "x = 1\n", {})
    with pytest.raises(ZeroDivisionError):
        build_cell_module("cell-d", "def f():\n    pass\n1 / 0\n", {})
    assert sys.modules[module_name("cell-d")] is first.module


def test_export_writes_imports_constants_and_all(tmp_path):
    import numpy as np

    source = "def scaled(x: float) -> float:\n    return float(np.float64(x) * SCALE)\n"
    cell = build_cell_module("cell-e", source, {"np": np, "SCALE": 2.5}, "Scaling.")
    text = render_module(cell, "scaled.py")
    assert text.startswith('"""Scaling."""')
    assert "import numpy as np" in text and "SCALE = 2.5" in text
    assert "__all__ = ['scaled']" in text
    path = export_module(cell, tmp_path / "out" / "scaled.py")
    exported = BackendModule.from_path(str(path), "cell-e-file")
    served = BackendModule("cell-e", cell.members, cell.description)
    assert exported.api_info()["functions"] == served.api_info()["functions"]


def test_export_refuses_names_a_file_cannot_recreate(tmp_path):
    lock = object()
    cell = build_cell_module("cell-f", "def f() -> str:\n    return str(LOCK)\n", {"LOCK": lock})
    with pytest.raises(CellModuleError, match="LOCK"):
        export_module(cell, tmp_path / "f.py")
    assert not (tmp_path / "f.py").exists()


SERVED_SOURCES = [
    "import enum\nfrom pydantic import BaseModel\nclass Kind(enum.Enum):\n    A = 1\n"
    "class Opts(BaseModel):\n    a: int = 1\nclass Oops(Exception):\n    pass\n"
    "def f(o: Opts) -> int:\n    return o.a\nclass Tool:\n    pass\ndef _hidden():\n    pass\n",
    "__all__ = ['b']\ndef a():\n    pass\ndef b():\n    pass\n",
    "__all__ = ['missing']\n",
    "__all__ = ['X']\nX = 1\n",
    "X = 1\n",
    "from math import sqrt\n",
]


@pytest.mark.parametrize("source", SERVED_SOURCES)
def test_a_cell_serves_the_members_its_file_would_serve(source, tmp_path):
    path = tmp_path / f"served_{SERVED_SOURCES.index(source)}.py"
    path.write_text(source)
    try:
        from_file = [m.__name__ for m in load_members(str(path))[0]]
    except SchemaError as exc:
        with pytest.raises(CellModuleError) as refused:
            build_cell_module("cell-rule", source, {})
        assert str(refused.value) == f"the cell: {str(exc).removeprefix(f'{path}: ')}"
        return
    assert build_cell_module("cell-rule", source, {}).member_names == from_file
