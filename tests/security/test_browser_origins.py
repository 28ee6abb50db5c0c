"""Hole 3: a web page on a foreign site must not use a broker running on the user's machine.

A real ``dasf-broker`` process gets the handshakes a browser sends (Origin, Host,
Sec-WebSocket-*): foreign origins and rebound host names are refused on every route family,
the broker's own origin, ``--allowed-origins`` entries and non-browser clients still connect.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from websockets.sync.client import connect

from dasf_jupyter.broker.process import BrokerProcess
from tests.security.browser import browser_handshake

EVIL = "https://evil.example"
ALLOWED = "http://lab.example:8888"

ROUTES = [
    "/ws/mod",
    "/ws/mod/sub-1",
    "/ws/v2/producer/persistent/public/default/mod",
    "/ws/v2/consumer/persistent/public/default/mod/sub-1",
    "/ws/status-ping",
]


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """An open (development) broker with the defaults, plus one allowed extra origin."""
    with BrokerProcess(
        data_dir=tmp_path_factory.mktemp("origins"), extra_args=("--allowed-origins", ALLOWED)
    ) as process:
        yield process


@pytest.mark.parametrize("path", ROUTES)
def test_a_foreign_page_is_refused_on_every_route(broker, path):
    status, body = browser_handshake(broker.port, path, EVIL)
    assert status == 403
    assert "origin 'https://evil.example' refused" in body and "--allowed-origins" in body


@pytest.mark.parametrize("path", ROUTES)
def test_dns_rebinding_is_refused_on_every_route(broker, path):
    """evil.example now resolves to 127.0.0.1: Origin and Host agree, but Host is foreign."""
    rebound = f"evil.example:{broker.port}"
    status, body = browser_handshake(broker.port, path, f"http://{rebound}", rebound)
    assert status == 403
    assert "is not in the broker's allowed hosts" in body


@pytest.mark.parametrize("origin", ["null", "file://", "chrome-extension://abcdef"])
def test_opaque_and_odd_origins_are_refused(broker, origin):
    status, _ = browser_handshake(broker.port, "/ws/mod", origin)
    assert status == 403


@pytest.mark.parametrize("path", ROUTES)
def test_the_brokers_own_origin_and_allowed_origins_connect(broker, path):
    assert browser_handshake(broker.port, path, f"http://127.0.0.1:{broker.port}")[0] == 101
    own = f"localhost:{broker.port}"
    assert browser_handshake(broker.port, path, f"http://{own}", own)[0] == 101
    assert browser_handshake(broker.port, path, ALLOWED)[0] == 101


def test_non_browser_clients_without_origin_are_unaffected(broker):
    assert browser_handshake(broker.port, "/ws/mod", None)[0] == 101
    # even under another Host name (an SSH tunnel, a reverse proxy): no Origin, no browser
    assert browser_handshake(broker.port, "/ws/mod", None, "tunnel.example:1")[0] == 101
    with connect(f"{broker.url}/mod", open_timeout=10) as producer:
        producer.send(json.dumps({"payload": "", "properties": {}, "context": "1"}))
        assert json.loads(producer.recv(timeout=10))["result"] == "ok"


def _get_topics(broker: BrokerProcess, host: str, origin: str | None = None) -> int:
    headers = {"Host": host, "Accept": "application/json"}
    if origin:
        headers["Origin"] = origin
    request = urllib.request.Request(f"{broker.http_url}/api/topics/", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            assert "access-control-allow-origin" not in {k.lower() for k in answer.headers}
            return answer.status
    except urllib.error.HTTPError as exc:
        with exc:  # closes the response it holds
            return exc.code


def test_discovery_api_refuses_rebound_host_names(broker):
    rebound = f"evil.example:{broker.port}"
    assert _get_topics(broker, rebound, f"http://{rebound}") == 400
    assert _get_topics(broker, rebound) == 400
    request = urllib.request.Request(f"{broker.http_url}/api/topics/", headers={"Host": rebound})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    with refused.value:
        assert json.loads(refused.value.read())["detail"] == (
            f"host '{rebound}' is not in the broker's allowed hosts "
            "(DASF_ALLOWED_HOSTS / --allowed-hosts)"
        )
    assert _get_topics(broker, f"127.0.0.1:{broker.port}") == 200
    assert _get_topics(broker, f"localhost:{broker.port}") == 200


def test_allowed_hosts_and_origins_are_configurable(tmp_path):
    env = {"DASF_ALLOWED_HOSTS": "broker.example", "DASF_ALLOWED_ORIGINS": "*"}
    with BrokerProcess(data_dir=tmp_path / "b", env=env) as broker:
        host = f"broker.example:{broker.port}"
        assert browser_handshake(broker.port, "/ws/mod", EVIL, host)[0] == 101
        assert browser_handshake(broker.port, "/ws/mod", EVIL)[0] == 403  # 127.0.0.1 not listed
        assert _get_topics(broker, host) == 200


def test_a_bad_allowed_origins_option_is_a_clear_error(tmp_path):
    broker = BrokerProcess(data_dir=tmp_path / "b", extra_args=("--allowed-origins", "lab:88"))
    with pytest.raises(RuntimeError, match="not an origin: 'lab:88'"):
        broker.start()
