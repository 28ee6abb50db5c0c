"""The server extension's settings: traitlet defaults from the table, kernels told the broker."""

from __future__ import annotations

import asyncio
import os
from types import SimpleNamespace

import pytest

pytest.importorskip("jupyter_server")

from dasf_jupyter.jupyter.server.app import DasfServerExtension  # noqa: E402


class RecordingKernelManager:
    """Stands in for jupyter-server's kernel manager: records how kernels would start."""

    def __init__(self) -> None:
        self.started: list[dict] = []

    async def start_kernel(self, **kwargs):
        self.started.append(kwargs)
        return f"kernel-{len(self.started)}"


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("DASF_BROKER_URL", "DASF_BROKER_SOURCE", "DASF_TOKEN", "DASF_EMBEDDED_BROKER"):
        monkeypatch.delenv(name, raising=False)
    for name in ("BINDER_LAUNCH_HOST", "BINDER_REQUEST"):
        monkeypatch.delenv(name, raising=False)


def test_kernels_get_the_broker_in_their_launch_environment_not_the_servers(clean_env):
    extension = DasfServerExtension(broker_url="ws://broker.example:8000/ws", token="tok")
    manager = RecordingKernelManager()
    extension.serverapp = SimpleNamespace(kernel_manager=manager)
    before = dict(os.environ)
    extension.initialize_settings()
    assert dict(os.environ) == before
    asyncio.run(manager.start_kernel(kernel_name="python3", env={"PATH": "/bin"}))
    asyncio.run(manager.start_kernel(kernel_name="python3"))  # no env: the server's
    first, second = (started["env"] for started in manager.started)
    assert first == {
        "PATH": "/bin",
        "DASF_BROKER_URL": "ws://broker.example:8000/ws",
        "DASF_BROKER_SOURCE": "jupyter-server",
        "DASF_TOKEN": "tok",
    }
    assert second["DASF_BROKER_URL"] == "ws://broker.example:8000/ws"
    assert second.get("PATH") == os.environ.get("PATH")
    assert dict(os.environ) == before


def test_traitlet_defaults_come_from_the_environment(clean_env, monkeypatch):
    monkeypatch.setenv("DASF_BROKER_URL", "ws://elsewhere/ws")
    monkeypatch.setenv("DASF_EMBEDDED_BROKER", "0")
    extension = DasfServerExtension()
    assert extension.broker_url == "ws://elsewhere/ws"
    assert extension.embedded_broker is False
    monkeypatch.setenv("DASF_EMBEDDED_BROKER", "1")
    assert DasfServerExtension().embedded_broker is True
