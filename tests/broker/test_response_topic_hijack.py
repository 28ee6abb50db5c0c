"""Issue 13, hole 1: a request must never turn an existing topic into its response topic.

The attack: publish one request to a topic one may call, naming someone else's private
topic as ``response_topic``. Before the fix the broker flipped that topic into a response
topic (a missing owner matched the anonymous attacker): anyone could then consume it, it
vanished from ``/api/topics/`` and the response-topic GC deleted it.
Real broker processes, real websockets; the memory hub and the PostgreSQL+Redis pair.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from dasf_jupyter.broker.process import BrokerProcess
from tests.brokerfixtures import publish_frame, recv_json, recv_messages, scaled_out_brokers

TIMEOUT = 10.0


def manage(broker: BrokerProcess, *args: str) -> str:
    result = broker.manage(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def ws(url: str, key: str | None = None) -> ClientConnection:
    headers = {"Authorization": f"Token {key}"} if key else None
    return connect(url, additional_headers=headers, open_timeout=TIMEOUT, close_timeout=2)


def request(producer: ClientConnection, response_topic: str, context: int = 1) -> dict:
    """Publish a request naming ``response_topic``; return the broker's ack."""
    producer.send(
        publish_frame(
            "e30=", context=context, requestContext=context, response_topic=response_topic
        )
    )
    return recv_json(producer)


def refused_handshake(url: str, key: str | None = None) -> tuple[int, str]:
    try:
        with ws(url, key):
            pass
    except InvalidStatus as exc:
        return exc.response.status_code, exc.response.body.decode()
    pytest.fail(f"handshake to {url} was accepted")


def topic_names(broker: BrokerProcess, key: str | None = None) -> set[str]:
    query = f"?token={key}" if key else ""
    with urllib.request.urlopen(f"{broker.http_url}/api/topics/{query}", timeout=TIMEOUT) as r:
        return {t["name"] for t in json.load(r)}


def topic_flags(broker: BrokerProcess) -> dict[str, str]:
    """``dasf_topic list --all``: name -> flags column (``response`` marks response topics)."""
    lines = manage(broker, "dasf_topic", "list", "--all").splitlines()
    return {line.split("\t")[0]: line.split("\t")[2] for line in lines}


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory):
    """alice runs the public module 'pub' and may consume the owner-less private topics."""
    with BrokerProcess(secure=True, data_dir=tmp_path_factory.mktemp("hijack")) as broker:
        keys = {}
        for name in ("alice", "bob"):
            manage(broker, "dasf_user", "create", name)
            keys[name] = manage(broker, "dasf_token", "create", name)
        manage(broker, "dasf_topic", "create", "pub", "--public", "--owner", "alice")
        # the documented default: no --owner
        manage(broker, "dasf_topic", "create", "secret")
        manage(broker, "dasf_topic", "create", "pub_internal")
        for topic in ("secret", "pub_internal"):
            manage(broker, "dasf_grant", "alice", topic, "--consume")
            manage(broker, "dasf_grant", "bob", topic, "--produce")
        yield broker, keys


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("secret", "must be named after the request topic: 'pub_<random suffix>'"),
        ("pub_internal", "exists and is not a response topic"),
    ],
)
def test_anonymous_request_cannot_claim_an_ownerless_private_topic(secure_broker, target, reason):
    broker, keys = secure_broker
    with ws(f"{broker.url}/pub") as attacker:
        ack = request(attacker, target)
    assert reason in ack["result"] and ack.get("messageId") is None
    # the topic is untouched: private, listed, not a response topic
    assert refused_handshake(f"{broker.url}/{target}/spy")[0] == 403
    assert topic_flags(broker)[target] == "-"
    assert target in topic_names(broker, keys["alice"])
    # and its legitimate users keep working
    with (
        ws(f"{broker.url}/{target}/backend", keys["alice"]) as backend,
        ws(f"{broker.url}/{target}", keys["bob"]) as caller,
    ):
        assert request(caller, f"{target}_bobreply")["result"] == "ok"
        assert next(recv_messages(backend))["properties"]["messageType"] == "request"


def test_someone_elses_response_topic_stays_theirs(secure_broker):
    broker, keys = secure_broker
    reply_topic = f"pub_{uuid.uuid4().hex[:12]}"
    with (
        ws(f"{broker.url}/{reply_topic}/client", keys["bob"]),
        ws(f"{broker.url}/pub") as attacker,
    ):
        ack = request(attacker, reply_topic)
        assert "belongs to someone else; anonymous user may not use it" in ack["result"]
        assert refused_handshake(f"{broker.url}/{reply_topic}/spy")[0] == 403


def test_anonymous_caller_of_a_public_topic_still_gets_its_reply(secure_broker):
    broker, keys = secure_broker
    reply_topic = f"pub_{uuid.uuid4().hex[:12]}"
    with (
        ws(f"{broker.url}/pub/backend", keys["alice"]) as backend,
        ws(f"{broker.url}/{reply_topic}/client") as replies,
        ws(f"{broker.url}/pub") as caller,
    ):
        assert request(caller, reply_topic, context=3)["result"] == "ok"
        assert next(recv_messages(backend))["properties"]["response_topic"] == reply_topic
        with ws(f"{broker.url}/{reply_topic}", keys["alice"]) as answer:
            answer.send(publish_frame("Mw==", requestContext=3, message_type="response"))
            assert recv_json(answer)["result"] == "ok"
        assert next(recv_messages(replies))["properties"]["requestContext"] == 3
    assert topic_flags(broker)[reply_topic] == "response"
    assert reply_topic not in topic_names(broker, keys["alice"])


def _open_mode_attack(attacked: BrokerProcess, observer: BrokerProcess) -> None:
    """An admin-created module topic with a backend; an anonymous request names it."""
    module = f"climate-{uuid.uuid4().hex[:8]}"
    target = f"{module}_model"
    manage(attacked, "dasf_topic", "create", target)
    with ws(f"{observer.url}/{target}/backend") as backend:
        with ws(f"{attacked.url}/{module}") as attacker:
            ack = request(attacker, target)
        assert "exists and is not a response topic" in ack["result"]
        assert target in topic_names(observer)
        assert topic_flags(observer)[target] == "-"
        with ws(f"{attacked.url}/{target}") as caller:
            assert request(caller, f"{target}_reply")["result"] == "ok"
        assert next(recv_messages(backend))["properties"]["response_topic"] == f"{target}_reply"


def test_open_mode_request_cannot_turn_a_module_topic_into_a_response_topic(broker_process):
    _open_mode_attack(broker_process, broker_process)


def test_open_mode_attack_through_one_of_two_scaled_out_brokers(tmp_path: Path):
    with scaled_out_brokers(tmp_path, "hijack") as (a, b):
        _open_mode_attack(a, b)


def test_subscribed_topic_is_claimable_only_briefly(start_broker):
    """A topic subscribed to before its request topic existed is not claimable for long."""
    broker = start_broker(env={"DASF_RESPONSE_TOPIC_CLAIM_WINDOW": "3"})
    old, new = (f"wx-{uuid.uuid4().hex[:8]}" for _ in range(2))
    with ws(f"{broker.url}/{old}_model/backend"):  # a module topic with '_' in its name
        time.sleep(4.5)  # let the claim window (3 s) pass, with margin
        with ws(f"{broker.url}/{old}") as attacker:
            ack = request(attacker, f"{old}_model")
    assert "exists and is not a response topic" in ack["result"]
    # a caller that subscribes first: its request follows at once and claims the topic
    with ws(f"{broker.url}/{new}_reply/client"), ws(f"{broker.url}/{new}") as caller:
        assert request(caller, f"{new}_reply")["result"] == "ok"
    flags = topic_flags(broker)
    assert (flags[f"{old}_model"], flags[f"{new}_reply"]) == ("-", "response")
