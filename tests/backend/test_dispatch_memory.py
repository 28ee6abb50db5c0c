"""Dispatcher.run lets go of each stage's input: a large result is not held several times."""

from __future__ import annotations

import weakref
from typing import Any

from dasf_jupyter.backend.dispatch import Dispatcher, Job, Outgoing
from dasf_jupyter.protocol import Envelope, decode_json_payload, encode_json_payload


class Result:
    """Stands for a large return value (weak-referenceable, no reference cycles)."""


class Tree(dict):
    """Stands for the JSON-able form of a large value (weak-referenceable)."""


class Bound:
    """A schema's bound call that records weak references to what it hands out."""

    reporter_param = "reporter"
    method = None
    member = "make"
    needs_caller = False

    def __init__(self) -> None:
        self.refs: dict[str, weakref.ref] = {}

    def execute(self, reporter: Any, caller: Any) -> Result:
        value = Result()
        self.refs["value"] = weakref.ref(value)
        return value

    def encode_result(self, value: Result) -> Tree:
        tree = Tree(made="yes")
        self.refs["tree"] = weakref.ref(tree)
        return tree


class Schema:
    def __init__(self) -> None:
        self.bound = Bound()

    def parse_request(self, data: Any) -> Bound:
        return self.bound


def test_value_and_its_json_form_are_freed_before_the_reply_is_framed():
    schema = Schema()
    dispatcher = Dispatcher("memory-unit", schema)
    alive_at_success: list[list[str]] = []

    def send(outgoing: Outgoing) -> None:
        props = outgoing.envelope.properties
        if props["messageType"] == "progress" and props["status"] == "success":
            refs = schema.bound.refs
            alive_at_success.append([name for name, ref in refs.items() if ref() is not None])

    request = Envelope(
        encode_json_payload({"func_name": "make"}),
        {"messageType": "request", "requestContext": "1", "response_topic": "memory-unit_r"},
    )
    (reply,) = dispatcher.run(Job(request, "memory-unit_r", "1"), send)
    assert decode_json_payload(reply.envelope.as_text().payload) == {"made": "yes"}
    # the final progress report is sent when the body is ready, before it is framed
    assert alive_at_success == [[]]
