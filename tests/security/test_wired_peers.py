"""Reference peers and key pinning against our secured BackendModule, through real brokers."""

from __future__ import annotations

import base64

import pytest

from dasf_jupyter.protocol import Envelope, decode_text_payload
from dasf_jupyter.security import KeyChanged
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerSocket

from .wired import allow_file, client, make_identity, new_topic, serve  # noqa: F401


@pytest.mark.slow
def test_demessaging_client_calls_optional_and_is_refused_by_required(
    ref_broker_url,
    serve,  # noqa: F811
):
    from tests.refbroker.ref_client import RefCallError, ref_call

    optional = new_topic()
    serve(ref_broker_url, optional, security="encrypted-optional")
    assert ref_call(ref_broker_url, optional, "add", a=2, b=3, timeout=60) == 5
    required = new_topic()
    serve(ref_broker_url, required, security="encrypted-required")
    with pytest.raises(RefCallError, match="only encrypted"):
        ref_call(ref_broker_url, required, "add", a=2, b=3, timeout=60)


def test_restarted_module_with_new_key_is_refused_until_trusted(
    broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
    tmp_path,
):
    topic = new_topic()
    _, first = serve(broker_url, topic, security="encrypted-optional")
    conn = client(broker_url)
    assert conn.module(topic).add(1, 2) == 3  # first key seen: pinned
    first.stop(5)
    module, _ = serve(
        broker_url, topic, security="encrypted-optional", key_path=tmp_path / "rotated.pem"
    )
    new_fp = module.security.keypair.fingerprint

    with pytest.raises(KeyChanged) as changed:
        conn.module(topic)
    assert changed.value.presented == new_fp and new_fp in str(changed.value)
    with pytest.raises(KeyChanged):
        client(broker_url).module(topic)  # the pin is per user, not per connection

    conn.trust(topic, new_fp)
    assert conn.module(topic).add(2, 2) == 4
    # accepting pinned the new key: a fresh connection now takes it without being told
    assert client(broker_url).module(topic).add(3, 3) == 6


def test_explicit_trust_refuses_any_other_key(
    broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
):
    topic = new_topic()
    module, _ = serve(broker_url, topic, security="encrypted-required")
    right = module.security.keypair.fingerprint
    conn = client(broker_url, trust={topic: right})
    assert conn.module(topic).add(5) == 6
    wrong = "SHA256:" + "A" * 43
    with pytest.raises(KeyChanged, match="--trust"):
        client(broker_url, trust={topic: wrong}).module(topic)


def test_trusting_a_plain_module_refuses_to_send_in_clear(
    broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
):
    topic = new_topic()
    serve(broker_url, topic)  # plain
    with pytest.raises(Exception, match="does not offer end-to-end encryption"):
        client(broker_url, trust={topic: "SHA256:" + "A" * 43}).module(topic)
    with pytest.raises(Exception, match="does not offer end-to-end encryption"):
        client(broker_url, encrypt="always").call(topic, {"func_name": "add", "a": 1})
    assert client(broker_url).module(topic).add(1) == 2


def test_replayed_and_tampered_requests_are_refused_and_serving_goes_on(
    broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
    tmp_path,
):
    topic = new_topic()
    alice, alice_path = make_identity(tmp_path, "alice")
    allowed = allow_file(tmp_path, alice.public_line("alice"))
    serve(broker_url, topic, security="encrypted-required", allow_list=allowed, require_auth=True)
    remote = client(broker_url, identity=alice_path).module(topic)
    url = BrokerUrl.parse(broker_url)
    capture = ConsumerSocket(url.consumer(topic, "capture"))
    replies_topic = topic + "_attacker"
    replies = ConsumerSocket(url.consumer(replies_topic, "attacker"))
    producer = ProducerSocket(url.producer(topic), topic=topic)
    try:
        assert remote.add(1, 2) == 3
        sent = next(
            e for e in iter(lambda: capture.receive(10), None) if e.message_type == "request"
        )

        def forge(payload: str) -> str:
            props = {**sent.properties, "response_topic": replies_topic}
            producer.publish(Envelope(payload, props, context="x"), timeout=10)
            reply = replies.receive(10)
            assert reply.properties["status"] == "error"
            assert "hello" not in decode_text_payload(reply.payload)
            return reply.properties["dasf_error_type"]

        assert forge(sent.payload) == "ReplayedNonce"
        data = bytearray(base64.b64decode(sent.payload))
        data[-1] ^= 1
        # decryption comes first: the authenticated cipher notices the flipped bit
        assert forge(base64.b64encode(bytes(data)).decode()) == "TamperedCiphertext"
    finally:
        for sock in (capture, replies, producer):
            sock.close()
    assert remote.add(2, 2) == 4
