"""Errors of cell modules in a real ipykernel: one short line, the module's own traceback.

The kernel serves a cell on its embedded broker; calls from the notebook get the cell's
traceback (the frames of the cell, with its source lines), callers elsewhere do not unless
the cell says ``--traceback``; the notebook shows one line, no client traceback.
"""

from __future__ import annotations

import os
import uuid

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.errors import RemoteError

from .test_kernel import Kernel, connect_embedded, stdout, value

pytestmark = pytest.mark.slow

BOOM = '''\
%%dasf module {topic}{flags}
def boom(x: float) -> float:
    """Fail on purpose for negative x."""
    if x < 0:
        raise ValueError(f"x must not be negative, got {{x}}")
    return x
'''


def _kernel_env(tmp_path) -> dict[str, str]:
    """The user's kernels share a runtime folder of their own (not this test process's)."""
    env = {
        **os.environ,
        "DASF_EMBEDDED_DIR": str(tmp_path / "embedded"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    env.pop("DASF_BROKER_URL", None)
    env.pop("JUPYTER_SERVER_URL", None)
    return env


@pytest.fixture
def kernel(tmp_path):
    started = Kernel(tmp_path, _kernel_env(tmp_path))
    yield started
    started.stop()


def _serve(kernel: Kernel, flags: str = "") -> str:
    topic = f"tb-{uuid.uuid4().hex[:8]}"
    out = stdout(kernel.run(BOOM.format(topic=topic, flags=flags)))
    assert f"serving '{topic}'" in out
    return topic


def test_notebook_sees_one_line_and_the_cells_traceback(kernel):
    url, _ = connect_embedded(kernel)
    topic = _serve(kernel)

    failed = kernel.run(f"%dasf call {topic}.boom x=-1", allow_error=True)
    assert failed["status"] == "error"  # "run all" still stops here
    # no traceback box of the client: one display with the line and the folded traceback
    assert [o["type"] for o in failed["outputs"]] == ["display_data"]
    shown = failed["outputs"][0]["data"]
    page = shown["text/html"]
    line, _, details = page.partition("<details")
    assert "ValueError</b>: x must not be negative, got -1.0" in line
    assert f"<code>{topic}</code>" in line and line.count("must not be negative") == 1
    assert f"File &quot;&lt;dasf module {topic}&gt;&quot;, line 4, in boom" in details
    assert "raise ValueError(f&quot;x must not be negative" in details  # the cell's line
    assert "dasf_jupyter" not in page  # no frames of our client or dispatcher
    assert shown["text/plain"].startswith("ValueError: x must not be negative, got -1.0 (remote")

    # the exception object carries the remote traceback for code that catches it
    kernel.run(
        "from dasf_jupyter.errors import RemoteError\n"
        f"%dasf use {topic} as m\n"
        "try:\n    m.boom(-2)\nexcept RemoteError as exc:\n    caught = exc\n"
    )
    assert value(kernel.run("caught.exc_type")) == "'ValueError'"
    assert value(kernel.run("'line 4, in boom' in caught.traceback")) == "True"
    assert value(kernel.run("'dasf_jupyter' in caught.traceback")) == "False"
    # a plain call that fails looks the same as the magic: one line, no traceback box
    plain = kernel.run("m.boom(-5)", allow_error=True)
    assert [o["type"] for o in plain["outputs"]] == ["display_data"]
    assert "got -5.0" in plain["outputs"][0]["data"]["text/html"]

    # a caller in another process (this test) gets the error, not the module's code
    with (
        connect(url, timeout=30, discovery_timeout=5) as outside,
        pytest.raises(RemoteError, match="must not be negative") as info,
    ):
        outside.module(topic).boom(-3)
    assert info.value.exc_type == "ValueError"
    assert info.value.traceback is None


def test_another_kernel_of_the_same_user_gets_the_traceback(kernel, tmp_path):
    url, _ = connect_embedded(kernel)
    topic = _serve(kernel)
    other = Kernel(tmp_path, _kernel_env(tmp_path))
    try:
        other.run(f"%load_ext dasf_jupyter\n%dasf connect {url}")
        failed = other.run(f"%dasf call {topic}.boom x=-1", allow_error=True)
    finally:
        other.stop()
    page = failed["outputs"][0]["data"]["text/html"]
    assert "line 4, in boom" in page.partition("<details")[2]
    shared = list((tmp_path / "runtime" / "dasf-own-topics").iterdir())
    assert oct(shared[0].stat().st_mode & 0o777) == "0o600"
    assert oct(shared[0].parent.stat().st_mode & 0o777) == "0o700"


def test_traceback_flag_sends_to_every_caller_and_off_to_none(kernel):
    url, _ = connect_embedded(kernel)
    everyone = _serve(kernel, " --traceback")
    nobody = _serve(kernel, " --traceback off")
    with (
        connect(url, timeout=30, discovery_timeout=5) as outside,
        pytest.raises(RemoteError) as info,
    ):
        outside.module(everyone).boom(-1)
    assert "line 4, in boom" in info.value.traceback
    failed = kernel.run(f"%dasf call {nobody}.boom x=-1", allow_error=True)
    page = failed["outputs"][0]["data"]["text/html"]
    assert "must not be negative" in page and "<details" not in page
