"""The Jupyter server extension keeps the broker token to itself and passes refusals on.

Real ``jupyter server`` and ``dasf-broker`` processes: ``/dasf/config`` never contains the
server's broker token, the ``/dasf/ws`` proxy presents it as a header (never in a URL, so in
no access log), and a broker refusal or revocation reaches the browser as close code
4401/4403 with the broker's reason instead of "not reachable".
"""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from dasf_jupyter.broker.process import BrokerProcess
from tests.labextension.jupyterserver import JupyterServer
from tests.security.browser import browser_handshake
from tests.waiting import eventually

pytest.importorskip("jupyter_server")


def manage(broker: BrokerProcess, *args: str) -> str:
    result = broker.manage(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def secure_broker(tmp_path: Path):
    """alice owns 'mod', carol has no rights; DEBUG logging so that every line is checked."""
    broker = BrokerProcess(
        data_dir=tmp_path / "broker",
        secure=True,
        env={"DASF_LOG_LEVEL": "DEBUG"},
        extra_args=("--log-level", "debug"),
    )
    with broker:
        for name in ("alice", "carol"):
            manage(broker, "dasf_user", "create", name)
        manage(broker, "dasf_topic", "create", "mod", "--owner", "alice")
        yield broker


def jupyter_with_token(tmp_path: Path, broker: BrokerProcess, key: str) -> JupyterServer:
    root = tmp_path / "jupyter"
    root.mkdir(parents=True)
    env = {"DASF_BROKER_URL": broker.url, "DASF_TOKEN": key, "DASF_EMBEDDED_BROKER": "0"}
    return JupyterServer(root, env=env).start()


def proxied_close(server: JupyterServer, path: str, timeout: float = 15.0) -> tuple[int, str]:
    """Open ``/dasf/ws/<path>`` as the logged-in user; code and reason of the close."""
    url = f"ws://127.0.0.1:{server.port}/dasf/ws/{path}"
    headers = {"Authorization": f"token {server.token}"}
    with connect(url, additional_headers=headers, open_timeout=timeout) as ws:
        try:
            while True:
                ws.recv(timeout=timeout)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "lost, not closed"
            return closed.rcvd.code, closed.rcvd.reason
        except TimeoutError:
            pytest.fail(f"/dasf/ws/{path} stayed open for {timeout} s")


def test_config_never_hands_out_the_broker_token(tmp_path, secure_broker):
    key = manage(secure_broker, "dasf_token", "create", "alice")
    server = jupyter_with_token(tmp_path, secure_broker, key)
    try:
        request = urllib.request.Request(
            server.url + "/dasf/config", headers={"Authorization": f"token {server.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            body = answer.read().decode()
        assert key not in body
        config = json.loads(body)
        assert config["token"] is None and config["token_required"] is True
        assert config["broker_url"] == secure_broker.url
    finally:
        server.stop()


def test_proxy_passes_the_brokers_refusals_through(tmp_path, secure_broker):
    carol = manage(secure_broker, "dasf_token", "create", "carol")
    server = jupyter_with_token(tmp_path, secure_broker, carol)
    try:
        assert proxied_close(server, "mod") == (
            4403,
            "user 'carol' may not produce to topic 'mod'",
        )
        assert proxied_close(server, "bad..name")[0] == 4400
    finally:
        server.stop()
    manage(secure_broker, "dasf_token", "revoke", carol)
    server = jupyter_with_token(tmp_path / "again", secure_broker, carol)
    try:
        assert proxied_close(server, "mod") == (4401, "unknown or revoked token")
    finally:
        server.stop()


def test_proxy_sends_the_token_as_a_header_and_passes_revocation_on(tmp_path, secure_broker):
    alice = manage(secure_broker, "dasf_token", "create", "alice")
    server = jupyter_with_token(tmp_path, secure_broker, alice)
    try:
        url = f"ws://127.0.0.1:{server.port}/dasf/ws/mod/backend"
        headers = {"Authorization": f"token {server.token}"}
        with connect(url, additional_headers=headers, open_timeout=15) as ws:
            eventually(  # the proxy's upstream socket is open
                lambda: (
                    'WebSocket /ws/mod/backend"'
                    in secure_broker.log_path.read_text(errors="replace")
                ),
                message="the proxy's upstream connection in the broker's access log",
            )
            manage(secure_broker, "dasf_token", "revoke", alice)
            start = time.monotonic()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=15)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
                4401,
                "the token was revoked",
            )
            assert time.monotonic() - start <= 5.0
        time.sleep(0.5)  # nothing to wait for: the token must be absent from what is logged
        broker_log = secure_broker.log_path.read_text(errors="replace")
        assert 'WebSocket /ws/mod/backend"' in broker_log  # no query string at all
        for output in (broker_log, server.log_path.read_text(errors="replace")):
            assert alice not in output and alice[:16] not in output
    finally:
        server.stop()


def test_proxy_refuses_foreign_pages(tmp_path, secure_broker):
    """Jupyter's own origin check holds for the proxy: a foreign page cannot use it."""
    alice = manage(secure_broker, "dasf_token", "create", "alice")
    server = jupyter_with_token(tmp_path, secure_broker, alice)
    try:
        # a logged-in browser: the login cookie, as Jupyter set it for the token
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{server.url}/login?token={server.token}", timeout=30).read()
        cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
        assert cookies, "no login cookie"
        extra = {"Cookie": cookies}
        own = f"http://127.0.0.1:{server.port}"
        assert browser_handshake(server.port, "/dasf/ws/mod", own, extra=extra)[0] == 101
        status, _ = browser_handshake(
            server.port, "/dasf/ws/mod", "https://evil.example", extra=extra
        )
        assert status == 403
    finally:
        server.stop()
    # and the broker itself refuses the page too, for its origin (before any token rule)
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{secure_broker.url}/mod", origin="https://evil.example", open_timeout=10)
    assert refused.value.response.status_code == 403
    assert b"origin 'https://evil.example' refused" in refused.value.response.body
