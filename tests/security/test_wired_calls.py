"""Our client ↔ our backend, encrypted-required with a signed identity, through both brokers."""

from __future__ import annotations

import uuid

import pytest

from dasf_jupyter.errors import RemoteError
from dasf_jupyter.security import API_INFO_KEY

from .test_through_broker import Spy, leaks
from .wired import allow_file, client, make_identity, new_topic, serve  # noqa: F401

FIVE_MB = 5 * 1024 * 1024


@pytest.fixture(params=["ours", "dasf-broker-django"])
def any_broker_url(request) -> str:
    name = "broker_url" if request.param == "ours" else "ref_broker_url"
    return request.getfixturevalue(name)


@pytest.mark.slow
def test_sealed_signed_calls_progress_and_5mb_result_leak_nothing(
    any_broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
    tmp_path,
):
    topic = new_topic()
    alice, alice_path = make_identity(tmp_path, "alice")
    allowed = allow_file(tmp_path, alice.public_line("alice"))
    module, _ = serve(
        any_broker_url,
        topic,
        security="encrypted-required",
        allow_list=allowed,
        require_auth=True,
    )
    conn = client(any_broker_url, identity=alice_path)
    remote = conn.module(topic)
    announced = remote.api_info[API_INFO_KEY]
    assert announced["mode"] == "encrypted-required"
    assert announced["fingerprint"] == module.security.keypair.fingerprint
    # the Caller parameter is supplied by the module, never part of the schema
    whoami_schema = next(f for f in remote.api_info["functions"] if f["name"] == "whoami")
    assert "caller" not in whoami_schema["rpc_schema"].get("properties", {})

    request_spy = Spy(any_broker_url, topic)
    reply_spy = Spy(any_broker_url, conn._channel(topic).response_topic)
    secret = "TOPSECRET-" + uuid.uuid4().hex
    assert remote.echo(secret) == secret
    assert remote.add(2, 3) == 5
    assert remote.whoami() == "hello alice"
    reports: list[dict] = []
    assert remote.counted.submit(3, on_progress=reports.append).result(60) == 3
    assert reports and reports[-1]["status"] == "success"
    big = remote.repeat(secret, FIVE_MB // len(secret) + 1)
    assert len(big) > FIVE_MB and big.startswith(secret)

    frames = request_spy.drain() + reply_spy.drain()
    fragments = [f for f in frames if b"num_fragments" in f]
    assert len(fragments) >= 10  # the 5 MB result came back in pieces, as ciphertext
    assert b"'progress'" in b"".join(frames)
    assert not any(leaks(frame, secret.encode()) for frame in frames)
    assert not any(b"step_message" in frame or b"Counting" in frame for frame in frames)


def test_identity_not_on_the_allow_list_is_refused_and_the_module_keeps_serving(
    broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
    tmp_path,
):
    topic = new_topic()
    alice, alice_path = make_identity(tmp_path, "alice")
    _, mallory_path = make_identity(tmp_path, "mallory")
    allowed = allow_file(tmp_path, alice.public_line("alice"))
    serve(broker_url, topic, security="encrypted-required", allow_list=allowed, require_auth=True)

    intruder = client(broker_url, identity=mallory_path).module(topic)
    with pytest.raises(RemoteError) as refused:
        intruder.add(1, 2)
    assert refused.value.exc_type == "UnknownUser"
    assert "allow list" in str(refused.value)

    anonymous = client(broker_url).module(topic)
    with pytest.raises(Exception, match="requires signed requests"):
        anonymous.add(1, 2)  # the client knows from api_info and says what to do

    assert client(broker_url, identity=alice_path).module(topic).add(1, 2) == 3


def test_caller_parameter_without_signature_gets_a_clear_refusal(
    broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
):
    topic = new_topic()
    serve(broker_url, topic, security="encrypted-optional")
    remote = client(broker_url).module(topic)
    assert remote.add(1, 1) == 2  # sealed, anonymous
    with pytest.raises(RemoteError) as refused:
        remote.whoami()
    assert refused.value.exc_type == "SignatureMissing"
    assert "dasf keygen" in str(refused.value)


def test_large_request_is_sealed_then_fragmented_and_reassembled_before_opening(
    broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
):
    topic = new_topic()
    serve(broker_url, topic, security="encrypted-required")
    conn = client(broker_url, fragment_size=64_000)
    spy = Spy(broker_url, topic)
    text = "LARGE-" + uuid.uuid4().hex * 10_000  # 320 kB: five request fragments
    assert conn.module(topic).echo(text) == text
    frames = spy.drain()
    assert sum(b"num_fragments" in f and b"'request'" in f for f in frames) >= 5
    assert not any(leaks(frame, text[:40].encode()) for frame in frames)
