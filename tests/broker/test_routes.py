"""Websocket routes of our broker: produce, consume, acks, aliases, refusals (real sockets)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.brokerfixtures import publish_frame, recv_json, recv_messages


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_publish_is_acked_and_delivered_with_id_and_time(broker_url):
    topic = unique_topic()
    with (
        connect(f"{broker_url}/{topic}/sub-a") as consumer,
        connect(f"{broker_url}/{topic}") as producer,
    ):
        producer.send(publish_frame("aGk=", context=7, response_topic=f"{topic}_r", x=1))
        ack = recv_json(producer)
        assert ack["result"] == "ok"
        assert ack["context"] == 7
        assert ack["consumers"] == 1
        assert str(uuid.UUID(ack["messageId"])) == ack["messageId"]
        delivery = next(recv_messages(consumer))
        assert delivery["payload"] == "aGk="
        assert delivery["context"] == 7
        assert delivery["properties"]["x"] == 1  # types preserved, publisher's object verbatim
        assert delivery["messageId"] == ack["messageId"]
        assert datetime.fromisoformat(delivery["publishTime"]).utcoffset().total_seconds() == 0


def test_trailing_slashes_are_optional(broker_url):
    topic = unique_topic()
    with (
        connect(f"{broker_url}/{topic}/sub/") as consumer,
        connect(f"{broker_url}/{topic}/") as producer,
    ):
        producer.send(publish_frame(context="c1", message_type="log"))
        assert recv_json(producer)["result"] == "ok"
        assert next(recv_messages(consumer))["context"] == "c1"


def test_pulsar_aliases_share_the_topic_namespace(broker_url):
    topic = unique_topic()
    base = broker_url.rsplit("/ws", 1)[0]
    consumer_url = (
        f"{base}/ws/v2/consumer/non-persistent/public/default/{topic}/web-frontend-1"
        "?subscriptionType=Exclusive"
    )
    with (
        connect(consumer_url) as pulsar_consumer,
        connect(f"{broker_url}/{topic}/dasf-sub") as dasf_consumer,
        connect(f"{base}/ws/v2/producer/non-persistent/public/default/{topic}") as producer,
    ):
        producer.send(publish_frame(context=1, message_type="log"))
        assert recv_json(producer)["consumers"] == 2
        assert next(recv_messages(pulsar_consumer))["context"] == 1
        assert next(recv_messages(dasf_consumer))["context"] == 1


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"payload": 5, "context": "c"}), "'payload' must be"),
        (json.dumps({"payload": "", "properties": [], "context": "c"}), "'properties' must be"),
    ],
)
def test_invalid_publish_gets_a_readable_ack_and_socket_stays_usable(broker_url, frame, reason):
    topic = unique_topic()
    with connect(f"{broker_url}/{topic}") as producer:
        producer.send(frame)
        ack = recv_json(producer)
        assert ack["result"].startswith("invalid message:")
        assert reason in ack["result"]
        if frame.startswith("{"):
            assert ack["context"] == "c"
        producer.send(publish_frame(context=2, message_type="log"))
        assert recv_json(producer)["result"] == "ok"


def test_consumer_acks_are_accepted_and_ignored(broker_url):
    topic = unique_topic()
    with connect(f"{broker_url}/{topic}/s") as consumer, connect(f"{broker_url}/{topic}") as prod:
        for i in range(2):
            prod.send(publish_frame(context=i, message_type="log"))
            recv_json(prod)
        messages = recv_messages(consumer)
        first = next(messages)
        consumer.send(json.dumps({"messageId": first["messageId"]}))
        consumer.send("garbage is ignored too")
        assert next(messages)["context"] == 1


def test_unknown_path_is_refused_with_404_and_reason(broker_url):
    base = broker_url.rsplit("/ws", 1)[0]
    with pytest.raises(InvalidStatus) as info:
        connect(f"{base}/nothing/here/at/all", open_timeout=10)
    assert info.value.response.status_code == 404
    assert b"/ws/<topic>" in info.value.response.body


def test_invalid_topic_name_is_refused_with_400(broker_url):
    with pytest.raises(InvalidStatus) as info:
        connect(f"{broker_url}/-bad..name", open_timeout=10)
    assert info.value.response.status_code == 400
    assert b"invalid topic name" in info.value.response.body


def test_unknown_token_is_refused_with_401(broker_url):
    with pytest.raises(InvalidStatus) as info:
        connect(
            f"{broker_url}/{unique_topic()}",
            additional_headers={"Authorization": "Token not-a-real-key"},
            open_timeout=10,
        )
    assert info.value.response.status_code == 401
    assert b"unknown or revoked token" in info.value.response.body


def test_oversized_frame_closes_with_1009_and_reason(start_broker):
    broker = start_broker(extra_args=["--max-message-size", "4096"])
    with connect(f"{broker.url}/{unique_topic()}", max_size=None) as producer:
        producer.send(publish_frame(context=1, message_type="log"))
        assert recv_json(producer)["result"] == "ok"
        producer.send(publish_frame("A" * 8000, context=2))
        with pytest.raises(ConnectionClosed) as info:
            producer.recv(timeout=10)
    close = info.value.rcvd
    assert close is not None and close.code == 1009
    assert close.reason  # says the limit was exceeded, so the sender knows why


def test_frame_below_the_limit_is_delivered(start_broker):
    broker = start_broker(extra_args=["--max-message-size", "65536"])
    topic = unique_topic()
    payload = base64.b64encode(b"x" * 40000).decode()
    with (
        connect(f"{broker.url}/{topic}/s", max_size=None) as consumer,
        connect(f"{broker.url}/{topic}") as producer,
    ):
        producer.send(publish_frame(payload, context=1, message_type="log"))
        assert recv_json(producer)["result"] == "ok"
        assert next(recv_messages(consumer))["payload"] == payload


def test_status_ping_accepts_replies_and_acks_them(broker_url):
    with connect(f"{broker_url}/status-ping") as sink:
        sink.send(
            json.dumps(
                {
                    "payload": "",
                    "context": "1",
                    "properties": {
                        "messageType": "pong",
                        "requestContext": "1",
                        "source_topic": unique_topic("never-created"),
                    },
                }
            )
        )
        ack = recv_json(sink)
        assert ack["context"] == "1"
        assert "No source topic found" in ack["result"]


def test_secure_mode_refuses_anonymous_producers_and_consumers_with_403(start_broker):
    broker = start_broker(secure=True)
    for url in (f"{broker.url}/{unique_topic()}", f"{broker.url}/{unique_topic()}/sub"):
        with pytest.raises(InvalidStatus) as info:
            connect(url, open_timeout=10)
        assert info.value.response.status_code == 403
        assert info.value.response.body.startswith(b"this broker requires a token (see ")
