"""``%dasf connect`` in a real kernel checks the broker and says which one it uses."""

from __future__ import annotations

import os
import sys

import pytest

from tests.conftest import free_port

from .test_kernel import Kernel, stdout

pytestmark = pytest.mark.slow


def outputs_text(result: dict) -> str:
    parts = []
    for output in result["outputs"]:
        parts.append(output.get("text", ""))
        parts.append(output.get("evalue", ""))
        parts.append("".join((output.get("data") or {}).get("text/plain", "")))
    return "\n".join(parts)


@pytest.fixture
def kernel_env(tmp_path):
    env = {**os.environ, "DASF_EMBEDDED_DIR": str(tmp_path / "embedded")}
    for name in ("DASF_BROKER_URL", "DASF_BROKER_SOURCE", "JUPYTER_SERVER_URL", "DASF_TOKEN"):
        env.pop(name, None)
    return env


@pytest.fixture
def kernel(tmp_path, kernel_env):
    started = Kernel(tmp_path, kernel_env)
    started.run("%load_ext dasf_jupyter")
    yield started
    started.stop()


def test_connect_to_a_closed_port_fails_with_a_clear_message(kernel):
    url = f"ws://127.0.0.1:{free_port()}/ws"
    result = kernel.run(f"%dasf connect {url}", allow_error=True)
    text = outputs_text(result)
    assert result["status"] == "error", text
    assert f"no DASF broker answers at {url}" in text
    assert "connected to" not in text
    assert "not connected" in stdout(kernel.run("%dasf status"))


def test_connect_names_a_given_broker(kernel, broker_url):
    out = stdout(kernel.run(f"%dasf connect {broker_url}"))
    assert out.strip() == f"connected to {broker_url} — the broker you named"


def test_connect_without_url_uses_and_names_the_embedded_broker(kernel):
    out = stdout(kernel.run("%dasf connect"))
    assert "— the notebook's embedded broker (started by this kernel)" in out
    assert "/" not in out.split(" — ")[1]  # no machine path in a notebook's output


def test_connect_names_the_jupyter_server_s_broker(tmp_path, kernel_env, broker_url):
    # what the jupyter-server extension puts into the environment of its kernels
    env = {**kernel_env, "DASF_BROKER_URL": broker_url, "DASF_BROKER_SOURCE": "jupyter-server"}
    started = Kernel(tmp_path, env)
    try:
        started.run("%load_ext dasf_jupyter")
        out = stdout(started.run("%dasf connect"))
        assert out.strip() == f"connected to {broker_url} — the broker of the Jupyter server"
    finally:
        started.stop()


def test_the_kernel_finds_the_dasf_command_without_the_virtualenv_on_path(tmp_path, kernel_env):
    # scripts/lab.sh's situation before it exported PATH: .venv/bin/jupyter, PATH without it
    venv_bin = os.path.dirname(sys.executable)
    path = [p for p in kernel_env.get("PATH", "").split(os.pathsep) if p != venv_bin]
    env = {**kernel_env, "PATH": os.pathsep.join(path)}
    started = Kernel(tmp_path, env)
    try:
        started.run("%load_ext dasf_jupyter")
        out = stdout(started.run("!dasf keygen --comment alice --out alice.pem"))
        assert "command not found" not in out
        assert (tmp_path / "alice.pem").exists() and (tmp_path / "alice.pem.pub").exists(), out
    finally:
        started.stop()
