"""Token and permission checks end to end: a secure broker subprocess, real websockets."""

from __future__ import annotations

import json
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from dasf_jupyter.broker.process import BrokerProcess
from dasf_jupyter.protocol import decode_json_payload, encode_json_payload

TIMEOUT = 10.0


def manage(broker: BrokerProcess, *args: str) -> str:
    result = broker.manage(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def secure_broker():
    """A secure broker with alice (owns 'mod'), carol (may produce to 'mod') and bob (nothing)."""
    with BrokerProcess(secure=True) as broker:
        keys = {}
        for name in ("alice", "bob", "carol", "dave"):
            manage(broker, "dasf_user", "create", name)
            keys[name] = manage(broker, "dasf_token", "create", name)
        manage(broker, "dasf_topic", "create", "mod", "--owner", "alice")
        manage(broker, "dasf_topic", "create", "pub", "--public")
        manage(broker, "dasf_grant", "carol", "mod", "--produce")
        manage(broker, "dasf_grant", "alice", "pub", "--consume")
        manage(broker, "dasf_token", "revoke", keys.pop("dave"))
        yield broker, keys


def open_ws(url: str, key: str | None = None, scheme: str = "Token") -> ClientConnection:
    headers = {"Authorization": f"{scheme} {key}"} if key else None
    return connect(url, additional_headers=headers, open_timeout=TIMEOUT, close_timeout=2)


def refusal(url: str, key: str | None = None) -> tuple[int, str]:
    """Status and body of a refused websocket handshake (fails if it was accepted)."""
    try:
        open_ws(url, key).close()
    except InvalidStatus as exc:
        return exc.response.status_code, exc.response.body.decode()
    pytest.fail(f"handshake to {url} was accepted")


def publish(ws: ClientConnection, value, **properties) -> dict:
    frame = {"payload": encode_json_payload(value), "properties": properties, "context": "7"}
    ws.send(json.dumps(frame))
    return json.loads(ws.recv(timeout=TIMEOUT))


def receive_request(ws: ClientConnection) -> dict:
    """Next delivery of type request/response, skipping the broker's liveness probes."""
    for _ in range(10):
        message = json.loads(ws.recv(timeout=TIMEOUT))
        if message["properties"].get("messageType") in ("request", "response"):
            ws.send(json.dumps({"messageId": message["messageId"]}))
            return message
    pytest.fail("no request/response delivered")


def test_no_token_is_refused_for_a_private_topic(secure_broker):
    broker, _ = secure_broker
    token_required = "this broker requires a token (see `dasf-broker manage dasf_token create`)"
    assert refusal(f"{broker.url}/mod") == (
        403,
        f"{token_required}; anonymous callers may only call public topics "
        "(refused: produce to topic 'mod')",
    )
    status, body = refusal(f"{broker.url}/newtopic")
    assert status == 403 and body.startswith(token_required) and "create topic" in body


def test_wrong_token_is_refused_not_downgraded(secure_broker):
    broker, _ = secure_broker
    # even for a public topic, where anonymous would be allowed
    assert refusal(f"{broker.url}/pub", "wrong") == (401, "unknown or revoked token")
    assert refusal(f"{broker.url}/pub?token=wrong") == (401, "unknown or revoked token")


def test_revoked_token_is_refused(secure_broker):
    broker, _ = secure_broker
    revoked = manage(broker, "dasf_token", "create", "bob")
    manage(broker, "dasf_token", "revoke", revoked)
    assert refusal(f"{broker.url}/pub", revoked) == (401, "unknown or revoked token")


def test_user_without_permission_is_refused(secure_broker):
    broker, keys = secure_broker
    assert refusal(f"{broker.url}/mod", keys["bob"]) == (
        403,
        "user 'bob' may not produce to topic 'mod'",
    )
    assert refusal(f"{broker.url}/mod/backend", keys["carol"]) == (
        403,
        "user 'carol' may not consume topic 'mod'",
    )


def test_anonymous_may_publish_to_a_public_topic(secure_broker):
    broker, _ = secure_broker
    with open_ws(f"{broker.url}/pub") as ws:
        assert publish(ws, "hi", messageType="log")["result"] == "ok"


def test_permitted_users_complete_a_request_response_round_trip(secure_broker):
    broker, keys = secure_broker
    base = broker.url
    with (
        open_ws(f"{base}/mod/backend", keys["alice"]) as backend_in,
        open_ws(f"{base}/mod_resp_carol/client", keys["carol"], scheme="Bearer") as client_in,
        open_ws(f"{base}/mod?token={keys['carol']}") as client_out,
    ):
        ack = publish(
            client_out,
            {"func_name": "add", "a": 1},
            messageType="request",
            response_topic="mod_resp_carol",
            requestContext="7",
        )
        assert ack["result"] == "ok"
        request = receive_request(backend_in)
        assert decode_json_payload(request["payload"]) == {"func_name": "add", "a": 1}
        # the backend's user may produce to the caller's response topic, others may not
        with open_ws(f"{base}/mod_resp_carol", keys["alice"]) as backend_out:
            ack = publish(backend_out, 2, messageType="response", status="success")
            assert ack["result"] == "ok"
        assert decode_json_payload(receive_request(client_in)["payload"]) == 2
        assert refusal(f"{base}/mod_resp_carol", keys["bob"])[0] == 403
        assert refusal(f"{base}/mod_resp_carol/spy", keys["bob"]) == (
            403,
            "user 'bob' may not consume topic 'mod_resp_carol'",
        )


def test_claiming_someone_elses_response_topic_is_refused_in_the_ack(secure_broker):
    broker, keys = secure_broker
    with open_ws(f"{broker.url}/mod_carol_private/c", keys["carol"]):
        pass  # carol now owns the response topic mod_carol_private
    manage(broker, "dasf_grant", "bob", "mod", "--produce")
    with open_ws(f"{broker.url}/mod", keys["bob"]) as ws:
        ack = publish(ws, {}, messageType="request", response_topic="mod_carol_private")
    assert "belongs to someone else" in ack["result"] and ack.get("messageId") is None


def test_discovery_api_of_the_running_broker_filters_by_token(secure_broker):
    broker, keys = secure_broker

    def names(query: str = "") -> set[str]:
        with urllib.request.urlopen(f"{broker.http_url}/api/topics/{query}", timeout=TIMEOUT) as r:
            return {t["name"] for t in json.load(r)}

    assert names() == {"pub"}
    assert {"mod", "pub"} <= names(f"?token={keys['alice']}")
    assert "mod_resp_carol" not in names(f"?token={keys['carol']}")
    with pytest.raises(urllib.error.HTTPError) as info:
        names("?token=wrong")
    with info.value:  # closes the response it holds
        assert info.value.code == 401


def test_anonymous_caller_of_a_public_topic_receives_the_response(secure_broker):
    broker, keys = secure_broker
    base = broker.url
    with (
        open_ws(f"{base}/pub/backend", keys["alice"]) as backend_in,
        open_ws(f"{base}/pub_anon123/client") as client_in,
        open_ws(f"{base}/pub") as client_out,
    ):
        ack = publish(client_out, "q", messageType="request", response_topic="pub_anon123")
        assert ack["result"] == "ok"
        assert decode_json_payload(receive_request(backend_in)["payload"]) == "q"
        with open_ws(f"{base}/pub_anon123", keys["alice"]) as backend_out:
            assert publish(backend_out, "a", messageType="response")["result"] == "ok"
        assert decode_json_payload(receive_request(client_in)["payload"]) == "a"
    assert refusal(f"{base}/mod_anon123/client")[0] == 403  # only for public topics
