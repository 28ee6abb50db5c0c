"""A spy that replays a sealed request verbatim gets it run nowhere: not on the replica that
ran it, not on another replica, not after a restart, and not once it is stale.

The replayer is an extra consumer of the module's topic on a real broker; it republishes the
sealed request it saw (payload and properties unchanged, only the reply sent to a topic it
reads) and reads the module's answer.
"""

from __future__ import annotations

import base64
import shutil
import time
import uuid

import pytest
import redis

from dasf_jupyter.client import connect
from dasf_jupyter.protocol import Envelope, decode_text_payload, encode_json_payload
from dasf_jupyter.security import ModuleKeyPair, request_aad, seal_request

from .attackers import Injector, TopicSpy
from .wired import MEMBERS, allow_file, make_identity, new_topic, serve  # noqa: F401

RUNS: list[str] = []


def record(tag: str) -> int:
    """Count the runs (a side effect a replay must not repeat)."""
    RUNS.append(tag)
    return RUNS.count(tag)


class Replayer:
    """Captures a request on the module's topic and republishes it, reading the answers."""

    def __init__(self, broker_url: str, topic: str) -> None:
        self.broker_url, self.topic = broker_url, topic
        self.spy = TopicSpy(broker_url, topic)
        self.inbox_topic = f"{topic}_replayer{uuid.uuid4().hex[:6]}"
        self.inbox = TopicSpy(broker_url, self.inbox_topic)
        self.injector = Injector(broker_url, topic)

    def capture(self) -> Envelope:
        """The next request (the client's api_info discovery skipped)."""
        while True:
            request = self.spy.next_message()
            if request.message_type == "request":
                return request

    def replay(self, request: Envelope) -> Envelope:
        """Publish ``request`` again (reply to our inbox); return the module's answer."""
        props = {k: v for k, v in request.properties.items() if k != "response_topic"}
        props["response_topic"] = self.inbox_topic
        self.injector.send(Envelope(request.as_text().payload, props))
        return self.answer()

    def answer(self) -> Envelope:
        while True:
            reply = self.inbox.next_message(timeout=20)
            if reply.message_type == "response":
                return reply

    def close(self) -> None:
        self.injector.close()
        self.inbox.close()
        self.spy.close()


def refused_as(reply: Envelope) -> tuple[str, str]:
    assert reply.properties.get("status") == "error", reply
    return str(reply.properties.get("dasf_error_type")), decode_text_payload(reply.payload)


@pytest.fixture
def replayer(broker_url):
    made: list[Replayer] = []

    def make(topic: str) -> Replayer:
        made.append(Replayer(broker_url, topic))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_unsigned_sealed_request_replayed_verbatim_is_refused(
    broker_url,
    serve,  # noqa: F811
    replayer,
    tmp_path,
):
    topic = new_topic("rpl")
    serve(broker_url, topic, members=[*MEMBERS, record], security="encrypted-optional")
    attacker = replayer(topic)
    tag = uuid.uuid4().hex
    with connect(broker_url, timeout=30, known_modules=tmp_path / "known") as conn:
        remote = conn.module(topic)
        assert remote.record(tag) == 1  # sealed, not signed
        request = attacker.capture()
        assert request.properties.get("dasf_e2e") == "v1" and "dasf_sig" not in request.properties
        assert refused_as(attacker.replay(request))[0] == "ReplayedNonce"
        assert RUNS.count(tag) == 1
        # the module keeps serving legitimate (new) sealed requests
        assert remote.record(tag) == 2


def test_replay_is_refused_by_other_replicas_and_after_a_restart(
    broker_url,
    serve,  # noqa: F811
    replayer,
    tmp_path,
):
    topic = new_topic("rpr")
    shared = {"security": "encrypted-optional", "subscription": f"replicas-{topic}"}
    handles = [serve(broker_url, topic, members=[*MEMBERS, record], **shared)[1] for _ in "ab"]
    attacker = replayer(topic)
    tag = uuid.uuid4().hex
    with connect(broker_url, timeout=30, known_modules=tmp_path / "known") as conn:
        assert conn.module(topic).record(tag) == 1
    request = attacker.capture()
    for _ in range(4):  # the two replicas share the work: both get some of the replays
        assert refused_as(attacker.replay(request))[0] == "ReplayedNonce"
    for handle in handles:
        handle.stop(5)
    serve(broker_url, topic, members=[*MEMBERS, record], **shared)  # same key file
    assert refused_as(attacker.replay(request))[0] == "ReplayedNonce"
    assert RUNS.count(tag) == 1


def test_replicas_share_seen_nonces_through_redis(
    broker_url,
    serve,  # noqa: F811
    replayer,
    tmp_path,
    redis_url,
):
    topic = new_topic("rrd")
    key = tmp_path / "module.pem"
    ModuleKeyPair.load_or_create(key)
    shared = {"security": "encrypted-optional", "subscription": f"replicas-{topic}"}
    for name in "ab":  # one key, but no file in common: only Redis connects the replicas
        copy = tmp_path / name / "module.pem"
        copy.parent.mkdir()
        shutil.copy(key, copy)
        serve(broker_url, topic, [*MEMBERS, record], key_path=copy, redis_url=redis_url, **shared)
    attacker = replayer(topic)
    tag = uuid.uuid4().hex
    with connect(broker_url, timeout=30, known_modules=tmp_path / "known") as conn:
        remote = conn.module(topic)
        assert remote.record(tag) == 1
        request = attacker.capture()
        for _ in range(4):
            assert refused_as(attacker.replay(request))[0] == "ReplayedNonce"
        assert RUNS.count(tag) == 1
        assert remote.record(tag) == 2
    fingerprint = ModuleKeyPair.load(key).fingerprint
    stored = redis.Redis.from_url(redis_url).keys(f"dasf:replay:{fingerprint}:sealed:*")
    assert len(stored) >= 2  # both calls' nonces, with an expiry
    assert not (tmp_path / "a" / "module.pem.seen").exists()


def test_stale_sealed_request_is_refused(
    broker_url,
    serve,  # noqa: F811
    replayer,
):
    topic = new_topic("rst")
    module, _ = serve(broker_url, topic, members=[*MEMBERS, record], security="encrypted-optional")
    attacker = replayer(topic)
    tag = uuid.uuid4().hex
    context = "41"
    plain = base64.b64decode(encode_json_payload({"func_name": "record", "tag": tag}))
    key = module.security.info().public_key
    aad = request_aad(topic, context, "request", "")
    old, _ = seal_request(plain, key, aad, timestamp=int(time.time()) - 3600)
    props = {"messageType": "request", "requestContext": context, "dasf_e2e": "v1"}
    props["response_topic"] = attacker.inbox_topic
    attacker.injector.send(Envelope(old, props))
    kind, message = refused_as(attacker.answer())
    assert kind == "StaleTimestamp" and "expired" in message
    assert RUNS.count(tag) == 0


def test_signed_plain_request_replayed_on_another_replica_is_refused(
    broker_url,
    serve,  # noqa: F811
    replayer,
    tmp_path,
):
    topic = new_topic("rsg")
    alice, alice_path = make_identity(tmp_path, "alice")
    allowed = allow_file(tmp_path, alice.public_line("alice"))
    shared = {"allow_list": allowed, "require_auth": True, "subscription": f"replicas-{topic}"}
    for _ in "ab":  # plain mode: the nonces go to the file next to the (default) key path
        serve(broker_url, topic, [*MEMBERS, record], **shared)
    attacker = replayer(topic)
    tag = uuid.uuid4().hex
    with connect(broker_url, timeout=30, identity=alice_path) as conn:
        remote = conn.module(topic)
        assert remote.record(tag) == 1
        request = attacker.capture()
        assert "dasf_sig" in request.properties and "dasf_e2e" not in request.properties
        for _ in range(4):
            assert refused_as(attacker.replay(request))[0] == "ReplayedNonce"
        assert RUNS.count(tag) == 1
        assert remote.record(tag) == 2
