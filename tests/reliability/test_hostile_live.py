"""Hostile input against a live broker and a live backend module: refusals, never a crash."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import InvalidStatus

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.protocol import encode_json_payload, split_payload
from tests.backend.test_serve import RawCaller, add
from tests.wsclient import open_websocket

pytestmark = pytest.mark.timeout(240)


def open_ws(url: str):
    return open_websocket(url, open_timeout=10, close_timeout=2, max_size=None)


@pytest.mark.parametrize(
    "path",
    [
        "ws/..%2F..%2Fetc%2Fpasswd",
        "ws/%2E%2E",
        "ws/a%00b",
        "ws/line%0Abreak",
        "ws/tab%09",
        "ws/%E2%80%AEevil",  # right-to-left override
        "ws/topic/sub%0D%0AX-Injected:%201",
        "ws/topic/..%2F..%2Fsub",
        "ws/topic/%00",
        "ws/v2/producer/non-persistent/public/default/..%2F..",
        "ws/v2/consumer/non-persistent/public/default/ok/%0A",
        "ws/" + "a" * 300,
        "ws/ok/" + "s" * 300,
    ],
)
def test_hostile_topic_and_subscription_names_are_refused_by_the_live_broker(broker_process, path):
    with pytest.raises(InvalidStatus) as info:
        open_ws(f"{broker_process.url[: -len('/ws')]}/{path}").close()
    assert info.value.response.status_code in (400, 404)
    assert info.value.response.body  # a reason, not an empty refusal


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    frames=st.lists(
        st.binary(max_size=200)
        | st.text(max_size=200)
        | st.builds(
            lambda payload, props, ctx: json.dumps(
                {"payload": payload, "properties": props, "context": ctx}
            ),
            st.text(max_size=20) | st.integers() | st.none(),
            st.dictionaries(st.text(max_size=15), st.text(max_size=15) | st.integers(), max_size=4)
            | st.integers(),
            st.text(max_size=5) | st.integers(),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_frame_on_a_producer_socket_is_acked_and_the_socket_stays_usable(broker_url, frames):
    topic = f"fuzz-{secrets.token_hex(3)}"
    with open_ws(f"{broker_url}/{topic}") as ws:
        for frame in frames:
            ws.send(frame)
            ack = json.loads(ws.recv(timeout=10))
            assert isinstance(ack.get("result"), str) and ack["result"]
        ws.send(json.dumps({"payload": "", "properties": {"messageType": "log"}, "context": 1}))
        assert json.loads(ws.recv(timeout=10))["result"] == "ok"


@pytest.fixture(scope="module")
def caller(broker_url):
    topic = f"hostile-{secrets.token_hex(4)}"
    handle = BackendModule(topic, [add]).serve_in_background(broker_url)
    raw = RawCaller(broker_url, topic)
    try:
        yield raw
    finally:
        raw.close()
        handle.stop()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("payload", "props"),
    [
        ("!!not base64!!", {}),
        (b64(b"\xff\xfe\x00 not utf-8"), {}),
        (b64(b"[1, 2, 3]"), {}),
        (b64(b"42"), {}),
        (b64(b"[" * 100_000 + b"]" * 100_000), {}),  # nesting bomb
        (b64(b'{"func_name": "add", "a": "' + b"9" * 100_000 + b'"}'), {}),
        (b64(b'{"func_name": "add", "a": 1e999}'), {}),
        (b64(b'{"func_name": "__class__"}'), {}),
        ("eyJ9", {"fragment": 0, "num_fragments": 10**9}),
        ("eyJ9", {"fragment": 5, "num_fragments": 2}),
        ("eyJ9", {"fragment": -1, "num_fragments": 2}),
        ("eyJ9", {"fragment": "x", "num_fragments": 2}),
    ],
)
def test_each_hostile_request_gets_an_error_response_and_the_module_keeps_serving(
    caller, payload, props
):
    context = caller.send("request", payload, **props)
    status, text, _ = caller.result(context, timeout=60)
    assert status == "error" and text
    assert caller.call({"func_name": "add", "a": 1, "b": 2}) == ("success", 3)


def test_duplicate_and_out_of_order_fragments_reassemble_over_the_broker(caller):
    chunks = split_payload(encode_json_payload({"func_name": "add", "a": 20, "b": 22}), 8)
    n = len(chunks)
    order = list(reversed(range(n))) + [0, n // 2]  # reversed, then duplicates
    context = None
    for i in order:
        props = {"fragment": i, "num_fragments": n}
        if context is None:
            context = caller.send("request", chunks[i], **props)
        else:
            caller.send("request", chunks[i], requestContext=context, **props)
    status, value, _ = caller.result(context, timeout=60)
    assert (status, value) == ("success", 42)


def test_a_request_missing_a_fragment_does_not_block_other_calls(caller):
    chunks = split_payload(encode_json_payload({"func_name": "add", "a": 1, "b": 1}), 8)
    caller.send("request", chunks[0], fragment=0, num_fragments=len(chunks))
    assert caller.call({"func_name": "add", "a": 2, "b": 2}) == ("success", 4)
