"""%dasf in a real ipykernel, driven over ZeroMQ with jupyter_client (no mocks)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.waiting import NeverHappened, eventually

jupyter_client = pytest.importorskip("jupyter_client")

from dasf_jupyter.client import connect  # noqa: E402
from dasf_jupyter.errors import ModuleNotServed  # noqa: E402

pytestmark = pytest.mark.slow

EXEC_TIMEOUT = 90.0
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

MODULE_CELL = '''\
%%dasf module {topic} --description "Kernel test module"
from dasf_jupyter.backend import ProgressReporter

def add(a: int, b: int = 1) -> int:
    """Add two numbers."""
    return a + b{op}

def counted(steps: int, reporter: ProgressReporter) -> int:
    """Report progress while counting."""
    with reporter.step("counting", steps=steps) as sub:
        for _ in range(steps):
            sub.advance()
            time.sleep(0.05)
    return steps

class Greeter:
    """Greets people."""

    def __init__(self, name: str):
        self.name = name

    def greet(self, times: int = 1) -> list[str]:
        return ["hi " + self.name] * times
'''


class Kernel:
    """A kernel and a blocking client; ``run`` executes code and collects its output."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.manager = jupyter_client.KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, allow_error: bool = False) -> dict:
        outputs: list[dict] = []

        def collect(msg: dict) -> None:
            if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                outputs.append({"type": msg["msg_type"], **msg["content"]})

        reply = self.client.execute_interactive(
            code, timeout=EXEC_TIMEOUT, output_hook=collect, stop_on_error=False
        )
        content = reply["content"]
        if content["status"] != "ok" and not allow_error:
            raise AssertionError(
                f"cell failed: {content.get('ename')}: {content.get('evalue')}\n{outputs}"
            )
        return {"status": content["status"], "outputs": outputs, "reply": content}

    def stop(self) -> None:
        self.client.stop_channels()
        if self.manager.is_alive():
            self.manager.shutdown_kernel(now=False)


def stdout(result: dict) -> str:
    return "".join(o.get("text", "") for o in result["outputs"] if o["type"] == "stream")


def value(result: dict) -> str:
    values = [o["data"]["text/plain"] for o in result["outputs"] if o["type"] == "execute_result"]
    assert values, f"no cell value in {result['outputs']}"
    return values[-1]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] != "Z"


def wait_gone(pid: int, timeout: float = 30.0) -> bool:
    """Whether ``pid`` ended within ``timeout`` s."""
    try:
        return eventually(lambda: not pid_alive(pid), timeout=timeout, interval=0.2)
    except NeverHappened:
        return False


@pytest.fixture
def kernel(tmp_path):
    env = {**os.environ, "DASF_EMBEDDED_DIR": str(tmp_path / "embedded")}
    env.pop("DASF_BROKER_URL", None)
    env.pop("JUPYTER_SERVER_URL", None)
    started = Kernel(tmp_path, env)
    yield started
    started.stop()


def connect_embedded(kernel: Kernel) -> tuple[str, int]:
    """Load the extension, connect to the embedded broker; return its URL and pid."""
    kernel.run("%load_ext dasf_jupyter")
    out = stdout(kernel.run("%dasf connect"))
    url = re.search(r"connected to (ws://\S+)", out).group(1)
    assert "embedded broker" in out
    status = stdout(kernel.run("%dasf status"))
    pid = int(re.search(r"\(pid (\d+)\)", status).group(1))
    assert pid_alive(pid)
    return url, pid


def test_kernel_serves_a_cell_uses_it_replaces_it_and_stops_it(kernel, tmp_path):
    url, broker_pid = connect_embedded(kernel)
    topic = f"kern-{uuid.uuid4().hex[:8]}"
    kernel.run("import time")
    served = kernel.run(MODULE_CELL.format(topic=topic, op=""))
    assert f"serving '{topic}' from this kernel: add, counted, Greeter" in stdout(served)

    # the notebook stays usable while the module serves in the background
    kernel.run(f"%dasf use {topic} as m")
    assert value(kernel.run("m.add(2, b=3)")) == "5"
    assert value(kernel.run("x = 40\n%dasf call " + topic + ".add a=x b=2")) == "42"
    completions = kernel.client.complete("m.ad", 4, reply=True, timeout=30)["content"]
    assert {"add", "m.add"} & set(completions["matches"])

    # a plain call that reports progress draws a progress bar widget in its own cell
    counted = kernel.run("m.counted(6)")
    assert value(counted) == "6"
    assert any(
        o["type"] == "display_data" and WIDGET_MIME in o["data"] for o in counted["outputs"]
    )

    # the form: a widget view; its Run button calls through the connection
    form = kernel.run(f"%dasf form {topic}.add")
    assert any(o["type"] == "execute_result" and WIDGET_MIME in o["data"] for o in form["outputs"])
    kernel.run(
        "from dasf_jupyter.jupyter.form_runner import module_form\n"
        "from dasf_jupyter.jupyter import _loaded\n"
        "session = next(iter(_loaded.values())).session\n"
        f"f = module_form(session.connection, {topic!r}, 'add', globals(), 30)\n"
        "f.fill({'a': 4, 'b': 5}); f.run(); assert f.wait(30), 'form call did not finish'\n"
        "assert f.error is None, f.error"
    )
    assert value(kernel.run("add_result")) == "9"

    # re-running the cell replaces the served module
    replaced = kernel.run(MODULE_CELL.format(topic=topic, op=" + 100"))
    assert f"re-serving '{topic}'" in stdout(replaced)
    assert value(kernel.run("m.add(2, b=3)")) == "105"

    # a caller outside the kernel sees the module, then stop makes it go away
    with connect(url, timeout=30, discovery_timeout=5) as outside:
        assert outside.module(topic).add(1, b=1) == 102
        kernel.run(f"%dasf stop {topic}")
        threads = value(kernel.run("import threading; [t.name for t in threading.enumerate()]"))
        assert f"dasf-serve-{topic}" not in threads
        with pytest.raises(ModuleNotServed):
            outside.api_info(topic, timeout=3)

    kernel.stop()
    assert wait_gone(broker_pid), "the embedded broker outlived its kernel"


def test_exported_cell_is_served_by_dasf_serve(kernel, tmp_path):
    url, _ = connect_embedded(kernel)
    topic = f"kexp-{uuid.uuid4().hex[:8]}"
    kernel.run("import math\nimport time\nimport numpy as np\nSCALE = 3")
    kernel.run(
        f"%%dasf module {topic}\n"
        + textwrap.dedent('''\
        """Exported module."""

        def scaled(x: float) -> float:
            """x times SCALE, via numpy."""
            return float(np.float64(x) * SCALE) + math.floor(0.5)
        ''')
    )
    path = tmp_path / "exported" / "scaled_module.py"
    out = stdout(kernel.run(f"%dasf export {topic} {path}"))
    assert f"wrote {path}" in out
    text = path.read_text()
    assert "import numpy as np" in text and "SCALE = 3" in text and "import math" in text
    kernel.run(f"%dasf stop {topic}")

    served_topic = f"{topic}-file"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dasf_jupyter.cli",
            "serve",
            str(path),
            "--topic",
            served_topic,
            "--url",
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with connect(url, timeout=30, discovery_timeout=5) as client:

            def module_if_served():
                assert server.poll() is None, server.stdout.read().decode()
                return client.module(served_topic)

            module = eventually(
                module_if_served,
                timeout=60,
                interval=0,
                retry_on=(ModuleNotServed,),
                message="`dasf serve` to come up",
            )
            assert module.scaled(2.0) == 6.0
            assert module.description == "Exported module." or module.scaled.__doc__
    finally:
        server.terminate()
        server.wait(15)
        server.stdout.close()


def test_restart_leaves_no_broker_behind(kernel):
    _, broker_pid = connect_embedded(kernel)
    kernel.run(f"%%dasf module kres-{uuid.uuid4().hex[:8]}\ndef one() -> int:\n    return 1\n")
    kernel_pid = kernel.manager.provisioner.pid
    kernel.manager.restart_kernel(now=False)
    assert wait_gone(broker_pid), "restart left the embedded broker running"
    assert not pid_alive(kernel_pid)
    kernel.client.wait_for_ready(timeout=60)
    assert "not connected" in stdout(kernel.run("%load_ext dasf_jupyter\n%dasf status"))


def test_killed_kernel_broker_is_reaped_by_the_watchdog(kernel):
    _, broker_pid = connect_embedded(kernel)
    kernel_pid = kernel.manager.provisioner.pid
    os.kill(kernel_pid, 9)  # only the kernel: its process group (and broker) stay
    assert wait_gone(broker_pid), "the watchdog did not stop the orphaned broker"
