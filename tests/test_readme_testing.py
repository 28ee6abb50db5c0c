"""README "Testing your module": both examples run as written."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Testing your module", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_shows_a_test_file_and_the_wiring_by_hand():
    test_file, by_hand = _examples()
    assert "def test_" in test_file and "serve_in_memory" in test_file
    assert "transport=broker.transport" in by_hand


def test_the_readme_test_file_passes(tmp_path):
    test_file, by_hand = _examples()
    path = tmp_path / "test_climate.py"
    path.write_text(test_file, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("readme_test_climate", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    tests = [getattr(example, name) for name in dir(example) if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test()
    # the wiring by hand uses the test file's ``add``; its asserts run as it executes
    exec(compile(by_hand, "README.md", "exec"), vars(example))  # noqa: S102 -- our README
