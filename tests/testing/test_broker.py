"""The in-memory broker keeps our broker's delivery rules: acks, turns, holds, closes."""

from __future__ import annotations

import json
import os
import threading

import pytest

from dasf_jupyter.errors import BrokerRefused, ConnectionLost, PayloadTooLarge
from dasf_jupyter.protocol import Envelope, MessageType, Prop, decode_delivery
from dasf_jupyter.protocol.binary import BINARY_FRAMES_HEADER
from dasf_jupyter.testing import InMemoryBroker

from .helpers import consumer, producer, receive


@pytest.fixture
def broker():
    with InMemoryBroker() as b:
        yield b


def _log(text: str) -> Envelope:
    return Envelope(text, {Prop.MESSAGE_TYPE: MessageType.LOG.value})


def _request(context: str, response_topic: str = "caller_x", **props) -> Envelope:
    return Envelope(
        "",
        {
            Prop.MESSAGE_TYPE: MessageType.REQUEST.value,
            Prop.REQUEST_CONTEXT: context,
            Prop.RESPONSE_TOPIC: response_topic,
            **props,
        },
    )


def test_a_publish_nobody_consumes_is_acked_with_zero_consumers(broker):
    sock = producer(broker, "t")
    ack = sock.publish(_log("aGk="))
    assert ack.ok and ack.consumers == 0 and ack.message_id


def test_consumers_of_one_subscription_take_turns_and_each_subscription_gets_all(broker):
    a, b = consumer(broker, "t", "shared"), consumer(broker, "t", "shared")
    other = consumer(broker, "t", "other")
    sock = producer(broker, "t")
    for i in range(4):
        assert sock.publish(_log(f"m{i}")).consumers == 2  # two subscriptions
    assert [receive(a).payload for _ in range(2)] == ["m0", "m2"]
    assert [receive(b).payload for _ in range(2)] == ["m1", "m3"]
    assert [receive(other).payload for _ in range(4)] == ["m0", "m1", "m2", "m3"]
    assert broker.subscriptions("t") == {"shared": 2, "other": 1}


def test_a_delivery_is_unacked_until_the_consumer_acks_it(broker):
    sub = consumer(broker, "t", auto_ack=False)
    message_id = producer(broker, "t").publish(_log("x")).message_id
    got = receive(sub)
    assert got.message_id == message_id
    assert broker.unacked() == [message_id]
    sub.ack(message_id)
    assert broker.unacked() == []


def test_a_broker_without_consumer_acks_says_so_and_consumers_do_not_ack():
    with InMemoryBroker(consumer_acks=False) as broker:
        sub = consumer(broker, "t")
        assert not sub.auto_ack  # the handshake said x-dasf-consumer-acks: none
        producer(broker, "t").publish(_log("x"))
        receive(sub)
        assert len(broker.unacked()) == 1


def test_receiving_times_out_with_timeout_error(broker):
    sub = consumer(broker, "t")
    receive_probes = [sub.receive(timeout=1) for _ in range(2)]  # ping and api_info
    assert [e.message_type for e in receive_probes] == ["ping", "api_info"]
    with pytest.raises(TimeoutError):
        sub.receive(timeout=0.05)


def test_a_closed_socket_raises_connection_lost(broker):
    sub = consumer(broker, "t")
    sub.close()
    with pytest.raises(ConnectionLost):
        sub.receive(timeout=1)
    sock = producer(broker, "t")
    sock.close()
    with pytest.raises(ConnectionLost):
        sock.publish(_log("x"), timeout=1)


def test_closing_the_broker_ends_every_socket_with_connection_lost(broker):
    sub = consumer(broker, "t")
    sock = producer(broker, "t")
    broker.close()
    with pytest.raises(ConnectionLost):
        receive(sub)
    with pytest.raises(ConnectionLost):
        sock.publish(_log("x"), timeout=1)
    with pytest.raises(ConnectionLost):
        producer(broker, "t")


def test_a_closed_consumers_undelivered_messages_go_to_the_others_of_its_subscription(broker):
    a, b = consumer(broker, "t"), consumer(broker, "t")
    sock = producer(broker, "t")
    for i in range(4):
        sock.publish(_log(f"m{i}"))
    a.close()  # m0 and m2 were queued for a
    assert sorted(receive(b).payload for _ in range(4)) == ["m0", "m1", "m2", "m3"]


def test_many_threads_publish_and_consume_each_message_exactly_once(broker):
    consumers = [consumer(broker, "t") for _ in range(3)]
    received: list[str] = []
    lock = threading.Lock()

    all_received = threading.Event()

    def consume(sub) -> None:
        while not all_received.is_set():
            try:
                got = receive(sub, timeout=0.05)
            except TimeoutError:
                continue
            with lock:
                received.append(got.payload)
                if len(received) == 800:
                    all_received.set()

    def publish(n: int) -> None:
        sock = producer(broker, "t")
        futures = [sock.publish_nowait(_log(f"{n}-{i}")) for i in range(200)]
        assert all(f.result(5).consumers == 1 for f in futures)

    readers = [threading.Thread(target=consume, args=(c,)) for c in consumers]
    writers = [threading.Thread(target=publish, args=(n,)) for n in range(4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(20)
    assert all_received.wait(20)
    for t in readers:
        t.join(20)
    assert sorted(received) == sorted(f"{n}-{i}" for n in range(4) for i in range(200))


def test_binary_frames_are_announced_and_delivered_as_asked(broker):
    raw = os.urandom(3000)
    binary, text = consumer(broker, "t", "b", binary=True), consumer(broker, "t", "x")
    sock = producer(broker, "t")
    assert sock.binary  # the handshake announced binary frames
    assert sock._ws.response_headers[BINARY_FRAMES_HEADER] == "1"
    sock.publish(Envelope("", {Prop.MESSAGE_TYPE: "log"}, data=raw))
    got_binary, got_text = receive(binary), receive(text)
    assert got_binary.data is not None and bytes(got_binary.data) == raw
    assert got_text.data is None and got_text.payload_bytes() == raw


def test_an_unserved_request_is_held_until_a_consumer_comes(broker):
    assert producer(broker, "t").publish(_request("1")).consumers == 0
    assert broker.held == 1
    got = receive(consumer(broker, "t"))
    assert got.request_context == "1" and broker.held == 0


def test_no_hold_requests_are_not_held(broker):
    ack = producer(broker, "t").publish(_request("1", **{Prop.NO_HOLD: "1"}))
    assert ack.consumers == 0 and broker.held == 0


def test_an_unserved_request_is_answered_with_an_error_when_the_hold_times_out():
    with InMemoryBroker(unserved_timeout=0.1) as broker:
        replies = consumer(broker, "caller_x")
        producer(broker, "t").publish(_request("7"))
        reply = receive(replies)
        assert reply.properties[Prop.STATUS] == "error" and reply.request_context == "7"
        text = reply.payload_bytes().decode()
        assert "no backend module consumed topic 't' within 0.1 s" in text


def test_a_request_whose_backend_is_cut_off_gets_an_orphan_error(broker):
    replies = consumer(broker, "caller_x")
    backend = consumer(broker, "t")
    producer(broker, "t").publish(_request("9"))
    assert receive(backend).request_context == "9"  # delivered, never answered
    assert broker.kick("t") == 1
    reply = receive(replies)
    assert reply.properties[Prop.ERROR_TYPE] == "BackendDisconnected"
    assert reply.request_context == "9"


def test_an_answered_request_gets_no_orphan_error(broker):
    replies = consumer(broker, "caller_x")
    backend = consumer(broker, "t")
    producer(broker, "t").publish(_request("9"))
    receive(backend)
    answer = {Prop.MESSAGE_TYPE: "response", Prop.REQUEST_CONTEXT: "9", Prop.STATUS: "success"}
    producer(broker, "caller_x").publish(Envelope("e30=", answer))
    broker.kick("t")
    assert receive(replies).properties[Prop.STATUS] == "success"
    with pytest.raises(TimeoutError):
        receive(replies, timeout=0.1)


def test_a_frame_over_the_size_limit_closes_the_producer_with_payload_too_large():
    with InMemoryBroker(max_message_size=1000) as broker:
        sock = producer(broker, "t")
        with pytest.raises(PayloadTooLarge):
            sock.publish(_log("A" * 2000), timeout=2)


def test_an_invalid_frame_is_refused_in_its_ack(broker):
    sock = broker.transport.open(f"{broker.url}/t")
    sock.send('{"payload": 5, "context": 3}')
    ack = json.loads(sock.recv(timeout=1))
    assert ack["context"] == 3 and ack["result"] != "ok"


def test_urls_are_checked_like_our_brokers_routes(broker):
    with pytest.raises(BrokerRefused, match="HTTP 400"):
        broker.transport.open(f"{broker.url}/bad..topic")
    with pytest.raises(BrokerRefused, match="HTTP 404"):
        broker.transport.open(f"{broker.url}/a/b/c")
    with pytest.raises(ConnectionLost):
        broker.transport.open("memory://elsewhere/ws/t")
    pulsar = broker.transport.open(f"{broker.url}/v2/consumer/non-persistent/public/default/t/s")
    producer(broker, "t").publish(_log("p"))
    frames = [decode_delivery(pulsar.recv(timeout=1)) for _ in range(3)]
    assert frames[-1].payload == "p"


def test_a_broker_with_a_token_refuses_sockets_and_requests_without_it():
    with InMemoryBroker(token="s3cret") as broker:
        with pytest.raises(BrokerRefused, match="HTTP 401"):
            broker.transport.open(f"{broker.url}/t")
        assert broker.transport.get("memory://dasf/api/topics/").status == 401
        sock = broker.transport.open(f"{broker.url}/t", {"Authorization": "Token s3cret"})
        sock.close()


def test_a_refused_topic_acks_publishes_with_the_reason_until_accepted_again(broker):
    sock = producer(broker, "t")
    broker.refuse("t", "User is not allowed to publish to this topic")
    with pytest.raises(BrokerRefused, match="not allowed"):
        sock.publish(_log("x"), timeout=1)
    broker.refuse("t", None)
    assert sock.publish(_log("x"), timeout=1).ok


def test_a_request_past_its_deadline_is_dropped_undelivered(broker):
    backend = consumer(broker, "t")
    sock = producer(broker, "t")
    sock.publish(_request("late", **{Prop.TTL: "0"}))  # its caller gives up at once
    sock.publish(_request("fine", **{Prop.TTL: "60"}))
    assert receive(backend).request_context == "fine"
