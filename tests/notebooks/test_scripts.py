"""README's main job: ``bash scripts/lab.sh`` (JupyterLab + embedded broker) and the demo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.conftest import free_port
from tests.notebooks.nbtools import ROOT, isolated_env, untrusted_notebooks, wait_until_gone
from tests.waiting import eventually

pytestmark = pytest.mark.slow

TOKEN = "lab-script-test-token"
START_TIMEOUT = 300.0  # s: the script first runs scripts/setup.sh (pip, network)


def get(url: str, timeout: float = 30.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        return answer.status, answer.read()


def test_lab_script_serves_basic_notebook_with_an_embedded_broker(tmp_path):
    port = free_port()
    env = isolated_env(tmp_path, DASF_BUILD_LABEXTENSION="0")
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            "bash",
            "scripts/lab.sh",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole below
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert process.poll() is None, (tmp_path / "lab.log").read_text()[-4000:]
            get(f"{base}/api/status", timeout=5)
            return True

        eventually(
            up,
            timeout=START_TIMEOUT,
            interval=0.5,
            retry_on=(urllib.error.URLError, OSError),
            message="JupyterLab to start",
        )
        # the shipped notebooks open trusted (saved forms and rich outputs render)
        assert untrusted_notebooks(env) == []
        status, page = get(f"{base}/lab/tree/notebooks/basic.ipynb")
        assert status == 200 and b"JupyterLab" in page
        status, body = get(f"{base}/dasf/config", timeout=90)
        config = json.loads(body)
        assert config["embedded"] is True
        assert config["broker_url"].startswith("ws://127.0.0.1:")
        # the embedded broker answers its discovery API, through the server extension
        status, topics = get(f"{base}/dasf/topics")
        assert status == 200 and isinstance(json.loads(topics), (list, dict))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()
    # the server stopped its broker (the broker's environment names our Jupyter folders)
    assert wait_until_gone(str(tmp_path)) == []


def test_demo_entry_runs_the_main_job_end_to_end(tmp_path):
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "dasf_jupyter.demo", "--port", str(port)],
        cwd=tmp_path,
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert f"ws://127.0.0.1:{port}/ws" in out
    assert "add(2, 3)     = 5" in out
    assert "xarray.DataArray" in out and "max |anomaly|" in out
    assert "= 3.0" in out  # slow_mean of 1..5, after the progress bar
    assert "done: broker, backend module and client stopped" in out
