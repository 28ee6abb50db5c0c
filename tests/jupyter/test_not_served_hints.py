"""``ModuleNotServed`` says what to do from where the caller is (real broker, real shell)."""

from __future__ import annotations

import uuid

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.client.hints import default_hint
from dasf_jupyter.errors import ModuleNotServed

from .test_magics import shell  # noqa: F401 - the shell fixture

CELL = '''\
def double(x: float) -> float:
    """Double x."""
    return 2 * x
'''


@pytest.fixture
def connected(shell, broker_url):  # noqa: F811
    shell.run_line_magic("dasf", f"connect {broker_url} --timeout 10")
    yield shell
    shell.run_line_magic("dasf", "stop --all")


def test_a_stopped_cell_module_says_re_run_its_cell(connected):
    topic = f"hint-{uuid.uuid4().hex[:8]}"
    connected.run_cell_magic("dasf", f"module {topic}", CELL)
    connected.run_line_magic("dasf", f"use {topic} as mod")
    assert connected.run_cell("mod.double(2)").result == 4
    connected.run_line_magic("dasf", f"stop {topic}")
    with pytest.raises(ModuleNotServed) as stopped:
        connected.user_ns["mod"].double(2)
    assert f"re-run its `%%dasf module {topic}` cell" in str(stopped.value)
    assert "dasf serve" not in str(stopped.value)
    # served again from the cell: calls work, and the hint is gone
    connected.run_cell_magic("dasf", f"module {topic}", CELL)
    assert connected.user_ns["mod"].double(3) == 6


def test_a_topic_never_served_here_suggests_a_cell_or_dasf_serve(connected):
    topic = f"never-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ModuleNotServed) as never:
        connected.run_line_magic("dasf", f"call {topic}.double x=1")
    text = str(never.value)
    assert f"`%%dasf module {topic}`" in text and "dasf serve" in text
    assert "re-run" not in text


def test_outside_a_notebook_the_hint_is_dasf_serve(broker_url):
    topic = f"script-{uuid.uuid4().hex[:8]}"
    with (
        connect(broker_url, timeout=10, discovery_timeout=3) as conn,
        pytest.raises(ModuleNotServed) as info,
    ):
        conn.call(topic, {"func_name": "double", "x": 1})
    assert default_hint(topic) in str(info.value)
