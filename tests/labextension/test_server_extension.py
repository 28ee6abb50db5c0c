"""The jupyter-server extension in a real ``jupyter server``: config, topics, embedded broker."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.broker.process import BrokerProcess
from dasf_jupyter.jupyter.server.handlers import http_base
from tests.conftest import port_open
from tests.labextension.jupyterserver import JupyterServer
from tests.waiting import eventually

pytest.importorskip("jupyter_server")


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("ws://127.0.0.1:8000/ws", "http://127.0.0.1:8000"),
        ("wss://hub.test/proxy/ws/?token=x", "https://hub.test/proxy"),
    ],
)
def test_http_base_of_a_broker_url(url: str, base: str) -> None:
    assert http_base(url) == base


def test_embedded_broker_starts_and_stops_with_the_server(tmp_path: Path) -> None:
    server = JupyterServer(tmp_path, env={"DASF_EMBEDDED_BROKER": "1", "DASF_BROKER_URL": ""})
    server.start()
    try:
        config = server.get("/dasf/config")
        assert config["embedded"] is True
        url = config["broker_url"]
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/ws")
        port = int(url.split(":")[2].split("/")[0])
        assert port_open("127.0.0.1", port)
        # a module served on the embedded broker shows up in the proxied discovery API
        handle = BackendModule.from_path("dasf_jupyter.examples.climate", "srv-climate")
        with handle.serve_in_background(url):
            eventually(
                lambda: any(t["name"] == "srv-climate" for t in server.get("/dasf/topics")),
                timeout=30,
                interval=0.2,
                message=lambda: f"srv-climate in /dasf/topics; server log:\n{server.log_tail()}",
            )
        with pytest.raises(urllib.error.HTTPError) as refused:
            server.get("/dasf/config", token=None)
        with refused.value:  # closes the response it holds
            assert refused.value.code == 403
    finally:
        server.stop()
    eventually(
        lambda: not port_open("127.0.0.1", port),
        timeout=20,
        message="the broker to stop with the server",
    )


def test_configured_broker_url_is_announced_and_proxied(tmp_path: Path) -> None:
    with BrokerProcess(data_dir=tmp_path / "broker") as broker:
        server = JupyterServer(
            tmp_path,
            env={"DASF_BROKER_URL": broker.url, "DASF_TOKEN": "", "DASF_EMBEDDED_BROKER": "0"},
        )
        server.start()
        try:
            config = server.get("/dasf/config")
            assert config == {
                "broker_url": broker.url,
                "http_url": broker.http_url,
                "token": None,
                "token_required": False,
                "embedded": False,
                "proxy_url": "/dasf/ws",
            }
            assert isinstance(server.get("/dasf/topics"), list)
        finally:
            server.stop()


def test_broker_is_callable_through_the_servers_websocket_proxy(tmp_path: Path) -> None:
    from dasf_jupyter.client import connect
    from dasf_jupyter.errors import DasfError

    server = JupyterServer(tmp_path, env={"DASF_EMBEDDED_BROKER": "1", "DASF_BROKER_URL": ""})
    server.start()
    try:
        config = server.get("/dasf/config")
        module = BackendModule.from_path("dasf_jupyter.examples.climate", "proxied-climate")
        with module.serve_in_background(config["broker_url"]):
            proxy = f"ws://127.0.0.1:{server.port}{config['proxy_url']}"
            # the Jupyter token authenticates at the proxy; the broker never sees it
            conn = connect(proxy, server.token, timeout=30)
            try:
                assert conn.module("proxied-climate").add(a=2, b=3) == 5
            finally:
                conn.close()
            with pytest.raises((DasfError, OSError)):
                anonymous = connect(proxy, None, timeout=10)
                try:
                    anonymous.module("proxied-climate", timeout=10)
                finally:
                    anonymous.close()
    finally:
        server.stop()


def test_without_any_broker_config_is_empty_and_topics_404(tmp_path: Path) -> None:
    server = JupyterServer(tmp_path, env={"DASF_BROKER_URL": "", "DASF_EMBEDDED_BROKER": "0"})
    server.start()
    try:
        assert server.get("/dasf/config")["broker_url"] is None
        with pytest.raises(urllib.error.HTTPError) as missing:
            server.get("/dasf/topics")
        with missing.value:
            assert missing.value.code == 404
    finally:
        server.stop()


def test_unreachable_broker_gives_502_with_a_reason(tmp_path: Path) -> None:
    from tests.conftest import free_port

    dead = f"ws://127.0.0.1:{free_port()}/ws"
    server = JupyterServer(tmp_path, env={"DASF_BROKER_URL": dead, "DASF_EMBEDDED_BROKER": "0"})
    server.start()
    try:
        with pytest.raises(urllib.error.HTTPError) as bad:
            server.get("/dasf/topics")
        with bad.value:
            assert bad.value.code == 502
            assert b"cannot reach the broker" in bad.value.read()
    finally:
        server.stop()


def test_embedded_broker_does_not_outlive_a_killed_server(tmp_path: Path) -> None:
    server = JupyterServer(tmp_path, env={"DASF_EMBEDDED_BROKER": "1", "DASF_BROKER_URL": ""})
    server.start()
    try:
        url = server.get("/dasf/config")["broker_url"]
        port = int(url.split(":")[2].split("/")[0])
        assert port_open("127.0.0.1", port)
        server.process.kill()  # no cleanup hooks run: the watchdog must stop the broker
        server.process.wait(10)
    finally:
        server.stop()
    eventually(
        lambda: not port_open("127.0.0.1", port), timeout=30, message="the orphaned broker to stop"
    )


def test_kernels_of_the_server_are_told_its_broker(tmp_path: Path) -> None:
    """`%dasf connect` in a Lab notebook finds the server's broker through DASF_BROKER_URL."""
    from jupyter_client import BlockingKernelClient

    server = JupyterServer(tmp_path, env={"DASF_EMBEDDED_BROKER": "1", "DASF_BROKER_URL": ""})
    server.start()
    client = None
    try:
        url = server.get("/dasf/config")["broker_url"]
        request = urllib.request.Request(
            server.url + "/api/kernels",
            data=b"{}",
            method="POST",
            headers={"Authorization": f"token {server.token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            kernel_id = json.loads(answer.read())["id"]
        connection_file = tmp_path / ".jupyter-runtime" / f"kernel-{kernel_id}.json"
        eventually(
            connection_file.exists,
            timeout=30,
            message=lambda: f"the kernel's connection file; server log:\n{server.log_tail()}",
        )
        client = BlockingKernelClient(connection_file=str(connection_file))
        client.load_connection_file()
        client.start_channels()
        _wait_for_kernel_info(client)
        # read on the shell channel: a kernel's first iopub output can be lost while its
        # subscription is still being set up (ZeroMQ's slow joiner), the reply cannot
        reply = client.execute(
            "import os",
            user_expressions={"url": "os.environ.get('DASF_BROKER_URL')"},
            reply=True,
            timeout=60,
        )
        seen = reply["content"]["user_expressions"]["url"]["data"]["text/plain"]
        assert seen == repr(url)
    finally:
        if client is not None:
            client.stop_channels()
        server.stop()


def test_plain_server_runs_a_broker_that_its_kernels_use(tmp_path: Path) -> None:
    """Plain ``jupyter server`` (no DASF variables): sidebar and kernels share one broker."""
    import re

    from jupyter_client import BlockingKernelClient

    env = {k: v for k, v in os.environ.items() if not k.startswith("DASF_")}
    env["DASF_EMBEDDED_DIR"] = str(tmp_path / "kernel-brokers")
    server = JupyterServer(tmp_path, env=env)
    server.env = env  # exactly this environment: no DASF_* from the test run
    server.start()
    client = None
    try:
        config = server.get("/dasf/config")
        assert config["embedded"] is True and config["broker_url"].startswith("ws://127.0.0.1:")
        request = urllib.request.Request(
            server.url + "/api/kernels",
            data=b"{}",
            method="POST",
            headers={"Authorization": f"token {server.token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            kernel_id = json.loads(answer.read())["id"]
        connection_file = tmp_path / ".jupyter-runtime" / f"kernel-{kernel_id}.json"
        eventually(connection_file.exists, timeout=30, message="the kernel's connection file")
        client = BlockingKernelClient(connection_file=str(connection_file))
        client.load_connection_file()
        client.start_channels()
        _wait_for_kernel_info(client)
        texts: list[str] = []
        reply = client.execute_interactive(
            "%load_ext dasf_jupyter\n%dasf connect",
            timeout=90,
            output_hook=lambda msg: texts.append(msg["content"].get("text", "")),
        )
        assert reply["content"]["status"] == "ok", texts
        out = "".join(texts)
        expected = f"connected to {config['broker_url']} — the broker of the Jupyter server"
        assert expected in out, out
        assert not re.search(r"embedded broker", out)
    finally:
        if client is not None:
            client.stop_channels()
        server.stop()


def _wait_for_kernel_info(client, timeout: float = 60.0) -> None:
    """Wait until the kernel answers ``kernel_info`` and its iopub messages reach us.

    ``wait_for_ready`` of a client without a kernel manager polls the heartbeat, which reads
    as "died" in the first moments of a kernel started by the server.
    """
    import queue

    def answered_on_iopub_too() -> bool:
        client.kernel_info(reply=True, timeout=5)
        # the request's busy/idle status on iopub proves our subscription is live: output
        # published before it is set up would be lost (ZeroMQ's slow joiner)
        client.get_iopub_msg(timeout=1)
        return True

    eventually(
        answered_on_iopub_too,
        timeout=timeout,
        interval=0,
        retry_on=(queue.Empty, TimeoutError),
        message="the kernel to answer kernel_info on shell and iopub",
    )
