"""Hole 4: revoking a token, a right or a user takes effect on sockets that are already open.

Producer and consumer sockets are opened on a real secure broker, the revocation is done with
the real management command, and the sockets must be closed with 4401 (token) or 4403 (right)
and the reason within the documented bound, while a fresh legitimate token keeps working.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from dasf_jupyter.broker.process import BrokerProcess
from tests.brokerfixtures import scaled_out_brokers
from tests.wsclient import open_websocket

#: the documented bound (README, docs/security-model.md): DASF_ACCESS_RECHECK_INTERVAL (2 s)
#: plus one database round trip; measured from the moment the management command returned
BOUND = 5.0


def manage(broker: BrokerProcess, *args: str) -> str:
    result = broker.manage(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def open_ws(broker: BrokerProcess, path: str, key: str) -> ClientConnection:
    headers = {"Authorization": f"Token {key}"}
    return open_websocket(f"{broker.url}/{path}", additional_headers=headers, open_timeout=10)


def publish(ws: ClientConnection) -> dict:
    ws.send(json.dumps({"payload": "", "properties": {"messageType": "request"}, "context": "1"}))
    return json.loads(ws.recv(timeout=10))


def closed_within(ws: ClientConnection, seconds: float) -> tuple[int, str, float]:
    """Code, reason and time of the broker's close; fails if the socket is still open."""
    start = time.monotonic()
    deadline = start + seconds + 10.0  # wait longer, to report how late it was
    while time.monotonic() < deadline:
        try:
            ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "the connection was lost, not closed by the broker"
            return closed.rcvd.code, closed.rcvd.reason, time.monotonic() - start
    pytest.fail(f"the socket was still open {seconds + 10:.0f} s after the revocation")


def setup_users(broker: BrokerProcess, topic: str) -> dict[str, str]:
    """alice owns ``topic``; carol may produce to it; a token each."""
    keys = {}
    for name in ("alice", "carol"):
        manage(broker, "dasf_user", "create", name)
        keys[name] = manage(broker, "dasf_token", "create", name)
    manage(broker, "dasf_topic", "create", topic, "--owner", "alice")
    manage(broker, "dasf_grant", "carol", topic, "--produce")
    return keys


@pytest.fixture
def secure_broker(tmp_path):
    with BrokerProcess(data_dir=tmp_path / "broker", secure=True) as broker:
        yield broker


def test_revoked_token_closes_open_producer_and_consumer_sockets(secure_broker):
    keys = setup_users(secure_broker, "mod")
    producer = open_ws(secure_broker, "mod", keys["alice"])
    consumer = open_ws(secure_broker, "mod/backend", keys["alice"])
    assert publish(producer)["result"] == "ok"

    manage(secure_broker, "dasf_token", "revoke", keys["alice"])
    for ws in (producer, consumer):
        code, reason, after = closed_within(ws, BOUND)
        assert (code, reason) == (4401, "the token was revoked")
        assert after <= BOUND, f"closed {after:.1f} s after the revocation"

    fresh = manage(secure_broker, "dasf_token", "create", "alice")
    with open_ws(secure_broker, "mod/backend", fresh), open_ws(secure_broker, "mod", fresh) as ws:
        assert publish(ws)["result"] == "ok"


def test_revoked_right_closes_the_producer_socket_with_4403(secure_broker):
    keys = setup_users(secure_broker, "mod")
    carol = open_ws(secure_broker, "mod", keys["carol"])
    alice = open_ws(secure_broker, "mod/backend", keys["alice"])
    assert publish(carol)["result"] == "ok"

    manage(secure_broker, "dasf_revoke", "carol", "mod", "--produce")
    code, reason, after = closed_within(carol, BOUND)
    assert code == 4403 and reason == "user 'carol' may no longer produce topic 'mod'"
    assert after <= BOUND
    # the owner's consumer is untouched, and carol's token still opens what it may
    alice.ping().wait(5)
    assert not alice.close_code
    with pytest.raises(Exception, match="403"):
        open_ws(secure_broker, "mod", keys["carol"])
    alice.close()


def test_deleted_token_closes_sockets(secure_broker):
    keys = setup_users(secure_broker, "mod")
    alice = open_ws(secure_broker, "mod/backend", keys["alice"])
    delete = "from dasf_jupyter.broker.models import ApiToken; ApiToken.objects.all().delete()"
    manage(secure_broker, "shell", "-c", delete)
    code, reason, after = closed_within(alice, BOUND)
    assert (code, reason) == (4401, "the token was deleted") and after <= BOUND


def test_deactivated_user_closes_sockets(secure_broker):
    keys = setup_users(secure_broker, "mod")
    carol = open_ws(secure_broker, "mod", keys["carol"])
    manage(secure_broker, "dasf_user", "deactivate", "carol")
    code, reason, after = closed_within(carol, BOUND)
    assert (code, reason) == (4401, "user 'carol' was deactivated") and after <= BOUND
    manage(secure_broker, "dasf_user", "activate", "carol")
    with open_ws(secure_broker, "mod", keys["carol"]) as again:
        assert publish(again)["result"] == "ok"


@pytest.mark.postgres
@pytest.mark.redis
def test_revocation_reaches_sockets_on_another_broker_process(tmp_path):
    """Two brokers share PostgreSQL: the revocation, done once, closes sockets on both."""
    with scaled_out_brokers(tmp_path, "revoke", secure=True) as (a, b):
        topic = f"mod-{uuid.uuid4().hex[:8]}"
        keys = setup_users(a, topic)
        on_a = open_ws(a, topic, keys["carol"])
        on_b = open_ws(b, f"{topic}/backend", keys["alice"])
        assert publish(on_a)["result"] == "ok"
        manage(a, "dasf_token", "revoke", keys["alice"])
        code, reason, after = closed_within(on_b, BOUND)
        assert (code, reason) == (4401, "the token was revoked") and after <= BOUND
        assert publish(on_a)["result"] == "ok"  # carol's socket on A is not affected
        on_a.close()
