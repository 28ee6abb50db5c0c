"""What a Binder user sees first: the committed notebooks' saved outputs (no run needed)."""

from __future__ import annotations

import json
import re

import pytest

from tests.notebooks.nbtools import ALL_NOTEBOOKS

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: folders of the machine that ran the notebooks (temporary, home, build and checkout folders)
MACHINE_PATH = re.compile(r"(/tmp/|/var/folders/|/root/|/home/\w|/Users/\w|/work/|[A-Z]:\\\\)")
#: a widget's default repr, e.g. FunctionForm(children=(HTML(value=...
WIDGET_TREE = re.compile(r"\w+\(children=")


def outputs(book: dict) -> list[dict]:
    return [o for c in book["cells"] if c["cell_type"] == "code" for o in c["outputs"]]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=[p.stem for p in ALL_NOTEBOOKS])
def test_saved_outputs_hold_no_machine_paths(path):
    for output in outputs(json.loads(path.read_text(encoding="utf-8"))):
        found = MACHINE_PATH.search(json.dumps(output, ensure_ascii=False))
        assert found is None, f"{path.name}: {found.group(0)!r} in {json.dumps(output)[:300]}"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=[p.stem for p in ALL_NOTEBOOKS])
def test_saved_widgets_have_their_state_and_a_readable_fallback(path):
    book = json.loads(path.read_text(encoding="utf-8"))
    state = book["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for output in outputs(book):
        data = output.get("data", {})
        plain = "".join(data.get("text/plain", ""))
        assert not WIDGET_TREE.search(plain), f"{path.name}: raw widget text {plain[:120]!r}"
        if WIDGET_VIEW in data:
            # rendered from the saved state in a trusted notebook ...
            assert data[WIDGET_VIEW]["model_id"] in state, f"{path.name}: widget without state"
            # ... and a sentence where widgets cannot render (untrusted, GitHub, no kernel)
            assert "run this cell" in plain or "while the call runs" in plain, plain


def test_the_check_catches_what_the_issue_saw():
    leaked = {"text": "broker data and log: /tmp/nbgen/embedded/kernel-31634\n"}
    assert MACHINE_PATH.search(json.dumps(leaked))
    assert WIDGET_TREE.search('FunctionForm(children=(HTML(value="<h4>make_grid</h4>"')
