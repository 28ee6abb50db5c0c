"""The reference stack alone: demessaging client -> dasf-broker-django -> demessaging backend.

Proves the harness (broker, backend, client helpers) before our own code is tested against
it, and records the exact wire frames into ``data/reference_frames.json``.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.refbroker.backend_process import ReferenceBackend
from tests.refbroker.process import ReferenceBroker
from tests.refbroker.rawws import RawTopicClient, b64_json, random_suffix, unb64
from tests.refbroker.ref_client import RefCallError, ref_call, ref_call_class

REF_MODULE = "tests.refbroker.ref_module"
FRAMES_FILE = Path(__file__).parent / "data" / "reference_frames.json"


def test_demessaging_client_calls_function(ref_broker_url: str, ref_module_topic: str) -> None:
    assert ref_call(ref_broker_url, ref_module_topic, "add", a=2, b=3) == 5
    assert ref_call(ref_broker_url, ref_module_topic, "echo", text="grüß dich") == "grüß dich"


def test_generated_client_path_fills_in_defaults(
    ref_broker_url: str, ref_module_topic: str
) -> None:
    result = ref_call(ref_broker_url, ref_module_topic, "add", a=2, members_from=REF_MODULE)
    assert result == 3


def test_demessaging_client_calls_class_method(ref_broker_url: str, ref_module_topic: str) -> None:
    result = ref_call_class(
        ref_broker_url, ref_module_topic, "Greeter", {"name": "Ada"}, "greet", times=2
    )
    assert result == ["hi Ada", "hi Ada"]


def test_demessaging_client_receives_xarray_grid(
    ref_broker_url: str, ref_module_topic: str
) -> None:
    encoded = ref_call(ref_broker_url, ref_module_topic, "make_grid", n=4, members_from=REF_MODULE)
    grid = xr.open_dataarray(io.BytesIO(base64.b64decode(encoded)), engine="scipy")
    assert grid.dims == ("y", "x")
    assert grid.dtype == np.float64
    np.testing.assert_array_equal(grid.values, np.arange(16.0).reshape(4, 4))
    np.testing.assert_array_equal(grid["x"].values, np.arange(4.0) * 0.5)
    assert grid.attrs["units"] == "m"


@pytest.mark.parametrize("members_from", [None, REF_MODULE])
def test_remote_exception_is_reported_to_demessaging_client(
    ref_broker_url: str, ref_module_topic: str, members_from: str | None
) -> None:
    with pytest.raises(RefCallError, match="error executing request: float division by zero"):
        ref_call(
            ref_broker_url, ref_module_topic, "divide", a=1.0, b=0.0, members_from=members_from
        )


def test_invalid_request_gets_validation_error(ref_broker_url: str, ref_module_topic: str) -> None:
    with pytest.raises(RefCallError, match="error validating request"):
        ref_call(ref_broker_url, ref_module_topic, "no_such_function", x=1)


def test_progress_reports_precede_the_response(ref_broker_url: str, ref_module_topic: str) -> None:
    with RawTopicClient(ref_broker_url, ref_module_topic) as client:
        ack = client.publish(
            client.build("request", 1, b64_json({"func_name": "slow", "steps": 2}))
        )
        assert ack["result"] == "ok"
        replies = _receive_until_response(client)
    progress = [r for r in replies if r["properties"]["messageType"] == "progress"]
    assert progress, "slow() must send progress messages"
    last_report = json.loads(unb64(progress[-1]["payload"]))
    assert last_report["status"] == "success"
    assert [c["step_message"] for c in last_report["children"]] == ["step 0", "step 1"]
    assert json.loads(unb64(replies[-1]["payload"])) == 2


@pytest.mark.slow
def test_reference_broker_passes_a_60mb_frame(ref_broker_url: str) -> None:
    topic = f"big-{random_suffix(6).lower()}"
    payload = base64.b64encode(os.urandom(45 * 1024 * 1024)).decode("ascii")  # 60 MiB of text
    assert len(payload) >= 60 * 1024 * 1024
    # consumer and producer on the same topic: the broker just routes
    with RawTopicClient(ref_broker_url, topic, response_topic=topic) as peer:
        # the announced response topic must differ from the topic itself, else the broker
        # fails to create it (unique slug) and closes the socket with 1011
        frame = peer.build("request", 1, payload, response_topic=f"{topic}_reply")
        assert peer.publish(frame, timeout=120)["result"] == "ok"
        delivery = peer.receive(timeout=120)
    assert delivery["payload"] == payload


def test_refused_publish_is_acked_with_reason_and_token_user_may_publish() -> None:
    request = b64_json({"func_name": "add", "a": 1})
    with ReferenceBroker(anonymous_can_create=False) as broker:
        with RawTopicClient(broker.url, "closed-topic") as anonymous:
            refused = anonymous.publish(anonymous.build("request", 1, request))
        token = broker.create_token("alice")
        auth = {"Authorization": f"Token {token}"}
        with RawTopicClient(broker.url, "alice-topic", headers=auth) as alice:
            accepted = alice.publish(alice.build("request", 1, request))
    assert refused["result"] == "User is not allowed to create topics."
    assert accepted["result"] == "ok"


def test_record_reference_frames(
    ref_broker_url: str, ref_backend: Callable[..., ReferenceBackend]
) -> None:
    examples = _record_frames(ref_broker_url, ref_backend)
    add = examples["add_request"]
    published, delivered = add["publish"], add["delivery_to_backend"]
    assert add["publish_ack"]["result"] == "ok"
    assert add["publish_ack"]["context"] == published["context"]
    # Django delivers the published object verbatim plus messageId and publishTime
    assert {
        k: v for k, v in delivered.items() if k not in ("messageId", "publishTime")
    } == published
    assert delivered["messageId"] == add["publish_ack"]["messageId"]
    response = add["response_delivery"]
    assert response["properties"] == {
        "status": "success",
        "requestContext": "1",
        "messageType": "response",
        "source_topic": "frames-demo",
    }
    assert unb64(response["payload"]) == b"5"
    fragments = examples["fragmented_response"]["deliveries"]
    assert [f["properties"]["fragment"] for f in fragments] == list(range(len(fragments)))
    joined = "".join(f["payload"] for f in fragments)
    assert json.loads(unb64(joined)) == "fragments of a reply"

    text = json.dumps(_normalise(examples), indent=2, ensure_ascii=False) + "\n"
    if not FRAMES_FILE.exists() or FRAMES_FILE.read_text() != text:
        FRAMES_FILE.write_text(text)
    assert json.loads(FRAMES_FILE.read_text())["add_request"]["publish_ack"]["result"] == "ok"


def _receive_until_response(client: RawTopicClient, timeout: float = 60) -> list[dict[str, Any]]:
    """Deliveries on the response topic up to and including the (last fragment of the) response."""
    replies: list[dict[str, Any]] = []
    while True:
        reply = client.receive(timeout=timeout)
        replies.append(reply)
        props = reply["properties"]
        if props["messageType"] == "response":
            last = props.get("num_fragments", 1) - 1
            if props.get("fragment", last) == last:
                return replies


def _spy_deliveries(spy: RawTopicClient, context: Any, timeout: float = 30) -> list[dict]:
    """What a consumer of the request topic sees up to the delivery of our request."""
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1].get("context") != context:
        seen.append(spy.receive(timeout=timeout, ack=False))
    return seen


def _record_frames(
    broker_url: str, ref_backend: Callable[..., ReferenceBackend]
) -> dict[str, Any]:
    """Exercise the reference backend over raw websockets and keep every frame verbatim."""
    ref_backend(broker_url, "frames-demo")
    ref_backend(broker_url, "frames-frag", max_payload_size=8)
    examples: dict[str, Any] = {}
    with (
        RawTopicClient(broker_url, "frames-demo", "frames-demo_abcdEFGH") as client,
        RawTopicClient(broker_url, "frames-demo", "frames-demo") as spy,
    ):
        request = client.build("request", 1, b64_json({"func_name": "add", "a": 2, "b": 3}))
        ack = client.publish(request)
        *before, delivery = _spy_deliveries(spy, 1)
        probes = [f for f in before if f["properties"].get("messageType") == "api_info"]
        if probes:
            examples["broker_api_info_probe_on_consumer_connect"] = probes[0]
        response = client.receive()
        examples["add_request"] = {
            "publish": request,
            "publish_ack": ack,
            "delivery_to_backend": delivery,
            "backend_consumer_ack": {"messageId": delivery["messageId"]},
            "response_delivery": response,
            "client_consumer_ack": {"messageId": response["messageId"]},
            "decoded": {"request": json.loads(unb64(request["payload"])), "response": 5},
        }
        client.publish(
            client.build("request", 2, b64_json({"func_name": "divide", "a": 1, "b": 0}))
        )
        error = client.receive()
        examples["error_response"] = {
            "delivery": error,
            "decoded_payload_text": unb64(error["payload"]).decode(),
        }
        client.publish(client.build("request", 3, b64_json({"func_name": "slow", "steps": 1})))
        replies = _receive_until_response(client)
        examples["progress_then_response"] = {
            "deliveries": replies,
            "decoded_payloads": [json.loads(unb64(r["payload"])) for r in replies],
        }
        client.publish(client.build("api_info", 4))
        api_info = client.receive()
        examples["api_info"] = {
            "publish": client.build("api_info", 4),
            "response_delivery": api_info,
            "decoded_api_info_keys": sorted(json.loads(api_info["properties"]["api_info"])),
        }
        client.publish(client.build("ping", 5))
        examples["ping_pong"] = {
            "publish": client.build("ping", 5),
            "pong_delivery": client.receive(),
        }
    with RawTopicClient(broker_url, "frames-frag", "frames-frag_abcdEFGH") as client:
        client.publish(
            client.build(
                "request", 7, b64_json({"func_name": "echo", "text": "fragments of a reply"})
            )
        )
        examples["fragmented_response"] = {
            "note": "backend started with --max_payload_size 8",
            "deliveries": _receive_until_response(client),
        }
    return examples


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _normalise(value: Any, ids: dict[str, str] | None = None) -> Any:
    """Replace run-specific ids and times by stable placeholders (same id -> same name)."""
    ids = {} if ids is None else ids
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "publishTime":
                out[key] = "<publishTime: server datetime.isoformat()>"
            else:
                out[key] = _normalise(item, ids)
        return out
    if isinstance(value, list):
        return [_normalise(item, ids) for item in value]
    if isinstance(value, str) and _UUID.match(value):
        return ids.setdefault(value, f"<uuid4 #{len(ids) + 1}>")
    return value
