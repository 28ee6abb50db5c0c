"""Dispatcher with a sealing policy: replies are sealed whole, then fragmented — no sockets."""

from __future__ import annotations

import json

import pytest

from dasf_jupyter.backend.dispatch import Dispatcher, Outgoing
from dasf_jupyter.backend.schema import ModuleSchema
from dasf_jupyter.protocol import (
    Envelope,
    FragmentAssembler,
    decode_json_payload,
    decode_text_payload,
    encode_json_payload,
)
from dasf_jupyter.security import ClientSecurity, ModuleKeyPair, SecurityPolicy

TOPIC = "sealed-unit"
SECRET = "CONFIDENTIAL-"


def secret(n: int) -> str:
    return SECRET * n


def fail() -> int:
    raise ValueError(SECRET)


@pytest.fixture(scope="module")
def policy() -> SecurityPolicy:
    return SecurityPolicy("encrypted-required", ModuleKeyPair.generate())


def dispatcher(policy: SecurityPolicy, fragment_size: int) -> Dispatcher:
    schema = ModuleSchema(TOPIC, [secret, fail])
    return Dispatcher(TOPIC, schema, fragment_size=fragment_size, security=policy)


def call(dispatcher: Dispatcher, policy: SecurityPolicy, request: dict) -> tuple[list, object]:
    """Seal ``request`` as a client does; the module's replies and the client's opener."""
    api_info = json.loads(json.dumps({"functions": [], **policy.api_info_extension()}))
    props = {"messageType": "request", "requestContext": "5", "response_topic": f"{TOPIC}_r"}
    props["dasf_accept"] = "dasf-jupyter-binary-1"  # asked for, but a sealed reply is text
    payload, props, opener = ClientSecurity(pinning=False).prepare(
        api_info, TOPIC, "5", encode_json_payload(request), props
    )
    decision = dispatcher.route(Envelope(payload, props, context="5"))
    assert decision.job is not None
    return dispatcher.run(decision.job), opener


def opened(replies: list[Outgoing], opener) -> str:
    """Reassemble the fragments' ciphertext, then open it as the client does."""
    assembler, whole = FragmentAssembler(), None
    for reply in replies:
        props = reply.envelope.properties
        assert reply.envelope.data is None and props["dasf_e2e"] == "v1"
        if "num_fragments" in props:
            whole = assembler.add(
                "5", props["fragment"], props["num_fragments"], reply.envelope.payload
            )
        else:
            whole = reply.envelope.payload
    base = {k: v for k, v in replies[-1].envelope.properties.items() if "fragment" not in k}
    return opener.open(whole, base)


def test_a_large_sealed_result_is_sealed_whole_then_fragmented(policy):
    replies, opener = call(dispatcher(policy, 1000), policy, {"func_name": "secret", "n": 500})
    assert len(replies) > 5
    assert all(len(r.envelope.payload) <= 1000 for r in replies)
    assert not any(SECRET in decode_text_payload(r.envelope.payload) for r in replies)
    assert decode_json_payload(opened(replies, opener)) == secret(500)


def test_a_small_sealed_result_is_one_message(policy):
    (reply,), opener = call(dispatcher(policy, 1000), policy, {"func_name": "secret", "n": 2})
    assert "fragment" not in reply.envelope.properties
    assert reply.envelope.properties["status"] == "success"
    assert decode_json_payload(opened([reply], opener)) == secret(2)


def test_a_sealed_failure_is_a_sealed_error_without_traceback(policy):
    (reply,), opener = call(dispatcher(policy, 1000), policy, {"func_name": "fail"})
    props = reply.envelope.properties
    assert props["status"] == "error" and "dasf_traceback" not in props
    assert SECRET in decode_text_payload(opened([reply], opener))
