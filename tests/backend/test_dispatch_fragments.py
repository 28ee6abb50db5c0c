"""Large requests arrive in fragments; the dispatcher puts them back together."""

from __future__ import annotations

from dasf_jupyter.backend.dispatch import Dispatcher
from dasf_jupyter.backend.module import BackendModule
from dasf_jupyter.backend.schema import ModuleSchema
from dasf_jupyter.protocol import (
    API_INFO_EXTENSION,
    Envelope,
    decode_json_payload,
    decode_text_payload,
    encode_json_payload,
    split_payload,
)


def count(text: str) -> int:
    return len(text)


def _dispatcher() -> Dispatcher:
    return Dispatcher("frag", ModuleSchema("frag", [count]))


def _fragments(payload: str, size: int, context: str = "7") -> list[Envelope]:
    chunks = split_payload(payload, size)
    return [
        Envelope(
            chunk,
            {
                "messageType": "request",
                "requestContext": context,
                "response_topic": "frag_reply",
                "fragment": i,
                "num_fragments": len(chunks),
            },
        )
        for i, chunk in enumerate(chunks)
    ]


def test_fragmented_request_runs_once_after_the_last_fragment_in_any_order():
    dispatcher = _dispatcher()
    fragments = _fragments(encode_json_payload({"func_name": "count", "text": "ü" * 5000}), 999)
    decisions = [dispatcher.route(env) for env in reversed(fragments)]
    jobs = [d.job for d in decisions if d.job is not None]
    assert len(jobs) == 1 and decisions[-1].job is jobs[0]
    assert all(not d.replies for d in decisions)
    assert "fragment" not in jobs[0].request.properties
    (reply,) = dispatcher.run(jobs[0])
    assert reply.envelope.properties["status"] == "success"
    assert decode_json_payload(reply.envelope.as_text().payload) == 5000


def test_contradicting_fragments_get_an_error_response():
    dispatcher = _dispatcher()
    first, second = _fragments(encode_json_payload({"func_name": "count", "text": "x"}), 10)[:2]
    dispatcher.route(first)
    bad = Envelope(second.payload, dict(second.properties, num_fragments=99))
    (reply,) = dispatcher.route(bad).replies
    assert reply.envelope.properties["status"] == "error"
    assert "invalid request fragments" in decode_text_payload(reply.envelope.as_text().payload)


def test_api_info_announces_request_fragments_binary_bodies_and_the_description():
    info = BackendModule("frag", [count], "Counts characters.").api_info()
    assert info[API_INFO_EXTENSION] == {
        "request_fragments": True,
        "description": "Counts characters.",
        "binary_bodies": ["dasf-jupyter-binary-1"],
    }
