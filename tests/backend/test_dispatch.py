"""Dispatcher: envelopes in, reply envelopes out — no sockets (PROTOCOL.md §5–§8)."""

from __future__ import annotations

import base64
import json

import pytest
from deprogressapi import ProgressReport
from hypothesis import given, settings
from hypothesis import strategies as st

from dasf_jupyter.backend.dispatch import OVERFLOW_MESSAGE, Dispatcher, Outgoing
from dasf_jupyter.backend.progress import ProgressReporter
from dasf_jupyter.backend.schema import ModuleSchema
from dasf_jupyter.protocol import Envelope, FragmentAssembler, encode_json_payload


def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b


def divide(a: float, b: float) -> float:
    return a / b


def fail_quietly() -> int:
    raise ValueError()


def wrong_return() -> int:
    return "not a number"  # type: ignore[return-value]


def big(n: int) -> str:
    return "x" * n


def shout(text: str) -> str:
    print("shouting", text)
    return text.upper()


def counted(steps: int, reporter: ProgressReporter) -> int:
    with reporter.step("Counting", steps=steps) as sub:
        for _ in range(steps):
            sub.advance()
    return steps


class Greeter:
    """Greets people."""

    def __init__(self, name: str) -> None:
        self.name = name

    def greet(self, times: int = 1) -> list[str]:
        return [f"hi {self.name}"] * times


MEMBERS = [add, divide, fail_quietly, wrong_return, big, shout, counted, Greeter]


@pytest.fixture(scope="module")
def schema() -> ModuleSchema:
    return ModuleSchema("unit-topic", MEMBERS)


@pytest.fixture
def dispatcher(schema: ModuleSchema) -> Dispatcher:
    return Dispatcher("unit-topic", schema, info='{"title": "unit-topic"}', api_info="{}")


def message(kind: str, payload: str = "", context: object = 7, **props: object) -> Envelope:
    properties = {"messageType": kind, "response_topic": "unit-topic_reply"}
    if context is not None:
        properties["requestContext"] = context
    properties.update(props)
    return Envelope(payload=payload, properties=properties, message_id="m-1")


def request(data: object) -> Envelope:
    return message("request", encode_json_payload(data))


def run(dispatcher: Dispatcher, envelope: Envelope, sent: list | None = None) -> list[Outgoing]:
    decision = dispatcher.route(envelope)
    assert decision.job is not None and not decision.replies
    return dispatcher.run(decision.job, send=None if sent is None else sent.append)


def text_of(out: Outgoing) -> str:
    return base64.b64decode(out.envelope.as_text().payload).decode()


def test_ping_gets_a_pong_with_the_reference_properties(dispatcher):
    (reply,) = dispatcher.route(message("ping", context=3)).replies
    assert reply.topic == "unit-topic_reply"
    assert reply.envelope.as_text().payload == ""
    assert reply.envelope.context == "3"
    assert reply.envelope.properties == {
        "requestContext": "3",
        "messageType": "pong",
        "source_topic": "unit-topic",
    }


def test_info_and_api_info_are_answered_in_properties(dispatcher):
    (info,) = dispatcher.route(message("info")).replies
    assert info.envelope.properties["info"] == '{"title": "unit-topic"}'
    assert info.envelope.properties["messageType"] == "response"
    assert "status" not in info.envelope.properties
    (api,) = dispatcher.route(message("api_info")).replies
    assert api.envelope.properties["api_info"] == "{}"
    assert api.envelope.as_text().payload == ""


def test_broker_probes_are_answered_on_status_ping(dispatcher):
    probe = message("ping", context=1, response_topic="status-ping")
    (reply,) = dispatcher.route(probe).replies
    assert reply.topic == "status-ping"
    assert reply.envelope.properties["source_topic"] == "unit-topic"


@pytest.mark.parametrize(
    "properties",
    [
        {"messageType": "request", "requestContext": 1},  # no response_topic
        {"messageType": "request", "response_topic": "t"},  # no requestContext
        {"requestContext": 1, "response_topic": "t"},  # no messageType
        {"messageType": "", "requestContext": 1, "response_topic": "t"},
        {"messageType": 5, "requestContext": 1, "response_topic": "t"},
    ],
)
def test_messages_failing_the_shape_check_are_ignored(dispatcher, properties, caplog):
    decision = dispatcher.route(Envelope(properties=properties))
    assert decision.replies == [] and decision.job is None
    assert "ignoring" in caplog.text


@pytest.mark.parametrize("kind", ["pong", "response", "progress", "log", "bogus"])
def test_other_message_types_get_no_reply(dispatcher, kind):
    decision = dispatcher.route(message(kind))
    assert decision.replies == [] and decision.job is None


def test_a_function_call_succeeds_with_base64_json(dispatcher):
    (reply,) = run(dispatcher, request({"func_name": "add", "a": 2, "b": 3}))
    props = reply.envelope.properties
    assert props == {
        "status": "success",
        "requestContext": "7",
        "messageType": "response",
        "source_topic": "unit-topic",
    }
    assert reply.envelope.as_text().payload == "NQ=="  # the reference's exact bytes for 5


def test_a_class_method_call_succeeds(dispatcher):
    data = {"class_name": "Greeter", "name": "Ada", "function": {"func_name": "greet", "times": 2}}
    (reply,) = run(dispatcher, request(data))
    assert json.loads(text_of(reply)) == ["hi Ada", "hi Ada"]


def error_of(replies: list[Outgoing]) -> tuple[str, dict]:
    (reply,) = replies
    assert reply.envelope.properties["status"] == "error"
    assert reply.envelope.properties["messageType"] == "response"
    return text_of(reply), reply.envelope.properties


def test_invalid_base64_is_an_error_response(dispatcher):
    text, props = error_of(run(dispatcher, message("request", "%%% not base64")))
    assert text.startswith("error validating request: payload is not valid base64")
    assert props["dasf_error_type"] == "ProtocolError"


def test_non_utf8_payload_is_an_error_response(dispatcher):
    payload = base64.b64encode(b"\xff\xfe{}").decode()
    text, _ = error_of(run(dispatcher, message("request", payload)))
    assert text.startswith("error validating request: payload is not valid UTF-8")


def test_invalid_json_is_an_error_response(dispatcher):
    payload = base64.b64encode(b"{not json").decode()
    text, _ = error_of(run(dispatcher, message("request", payload)))
    assert text.startswith("error validating request: payload is not valid JSON")


def test_an_unknown_function_is_an_error_response(dispatcher):
    text, props = error_of(run(dispatcher, request({"func_name": "nope"})))
    assert text.startswith("error validating request: unknown function 'nope'")
    assert text.count("error validating request") == 1
    assert props["dasf_error_type"] == "RequestValidationError"


def test_wrong_argument_types_are_an_error_response(dispatcher):
    text, _ = error_of(run(dispatcher, request({"func_name": "add", "a": "two"})))
    assert text.startswith("error validating request: ") and "a" in text


def test_an_exception_in_user_code_is_an_error_response(dispatcher):
    text, props = error_of(run(dispatcher, request({"func_name": "divide", "a": 1, "b": 0})))
    assert text == "error executing request: float division by zero"
    assert props["dasf_error_type"] == "ZeroDivisionError"
    assert "dasf_traceback" not in props


def test_an_exception_without_message_names_its_type(dispatcher):
    text, _ = error_of(run(dispatcher, request({"func_name": "fail_quietly"})))
    assert text == "error executing request: ValueError"


def test_the_traceback_is_sent_when_configured(schema):
    dispatcher = Dispatcher("unit-topic", schema, send_traceback=True)
    _, props = error_of(run(dispatcher, request({"func_name": "divide", "a": 1, "b": 0})))
    assert "Traceback" in props["dasf_traceback"] and "a / b" in props["dasf_traceback"]
    # the module's frames only: the dispatcher's own are of no use to its author
    assert "dasf_jupyter" not in props["dasf_traceback"]


def test_a_traceback_policy_picks_the_callers_by_response_topic(schema):
    mine = Dispatcher("unit-topic", schema, send_traceback=lambda topic: topic == "mine")
    envelope = request({"func_name": "divide", "a": 1, "b": 0})
    _, props = error_of(run(mine, envelope))  # replies go to "unit-topic_reply"
    assert "dasf_traceback" not in props
    envelope.properties["response_topic"] = "mine"
    _, props = error_of(run(mine, envelope))
    assert "a / b" in props["dasf_traceback"]


def test_a_result_that_cannot_be_encoded_is_an_error_response(dispatcher):
    text, props = error_of(run(dispatcher, request({"func_name": "wrong_return"})))
    assert text.startswith("error executing request: ")
    assert props["dasf_error_type"] == "ResultValidationError"


def test_a_large_result_is_fragmented_and_reassembles(schema):
    dispatcher = Dispatcher("unit-topic", schema, fragment_size=1000)
    replies = run(dispatcher, request({"func_name": "big", "n": 5000}))
    assert len(replies) > 1
    assembler = FragmentAssembler()
    whole = None
    for index, reply in enumerate(replies):
        props = reply.envelope.properties
        assert props["fragment"] == index and props["num_fragments"] == len(replies)
        assert props["status"] == "success" and len(reply.envelope.as_text().payload) <= 1000
        whole = assembler.add(
            "7", props["fragment"], props["num_fragments"], reply.envelope.as_text().payload
        )
    assert whole is not None
    assert json.loads(base64.b64decode(whole)) == "x" * 5000


def test_a_result_at_the_fragment_size_is_not_fragmented(schema):
    dispatcher = Dispatcher("unit-topic", schema, fragment_size=1002)
    (reply,) = run(dispatcher, request({"func_name": "big", "n": 1000}))  # 1002 JSON bytes
    assert "fragment" not in reply.envelope.properties


def test_progress_messages_precede_the_response_and_decode_as_deprogressapi(dispatcher):
    sent: list[Outgoing] = []
    (reply,) = run(dispatcher, request({"func_name": "counted", "steps": 3}), sent)
    assert json.loads(text_of(reply)) == 3
    assert sent, "no progress message was sent"
    for out in sent:
        assert out.envelope.properties["messageType"] == "progress"
        assert out.envelope.properties["requestContext"] == "7"
        ProgressReport.model_validate_json(base64.b64decode(out.envelope.as_text().payload))
    final = json.loads(base64.b64decode(sent[-1].envelope.as_text().payload))
    assert sent[-1].envelope.properties["status"] == "success" == final["status"]
    assert final["step_message"] == "counted"
    assert len(final["children"][0]["children"]) == 3


def test_the_callers_report_config_is_used(dispatcher):
    sent: list[Outgoing] = []
    report = {"step_message": "Mine", "settings": {"show_method": "AUTO"}}
    run(dispatcher, request({"func_name": "counted", "steps": 1, "reporter": report}), sent)
    assert (
        json.loads(base64.b64decode(sent[-1].envelope.as_text().payload))["step_message"] == "Mine"
    )


def test_stdout_is_forwarded_as_log_messages_when_enabled(schema):
    dispatcher = Dispatcher("unit-topic", schema, forward_output=True)
    sent: list[Outgoing] = []
    (reply,) = run(dispatcher, request({"func_name": "shout", "text": "hi"}), sent)
    assert json.loads(text_of(reply)) == "HI"
    (log,) = sent
    assert log.envelope.properties["messageType"] == "log"
    assert json.loads(base64.b64decode(log.envelope.as_text().payload)) == {
        "level": "INFO",
        "message": "shouting hi",
        "logger": "stdout",
    }


def test_stdout_is_not_forwarded_by_default(dispatcher, capsys):
    sent: list[Outgoing] = []
    run(dispatcher, request({"func_name": "shout", "text": "hi"}), sent)
    assert sent == []
    assert "shouting hi" in capsys.readouterr().out


def test_overflow_rejection_has_the_reference_text(dispatcher):
    job = dispatcher.route(request({"func_name": "add", "a": 1})).job
    (reply,) = dispatcher.rejection(job)
    assert text_of(reply) == OVERFLOW_MESSAGE
    assert reply.envelope.properties["status"] == "error"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(properties=st.dictionaries(st.text(max_size=20), json_values, max_size=6))
def test_routing_arbitrary_properties_never_raises(schema, properties):
    dispatcher = Dispatcher("unit-topic", schema)
    decision = dispatcher.route(Envelope(payload="", properties=properties))
    for reply in decision.replies:
        assert reply.envelope.properties["source_topic"] == "unit-topic"


@settings(max_examples=200, deadline=None)
@given(
    payload=st.one_of(
        st.text(max_size=60),
        st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()),
        json_values.map(encode_json_payload),
        st.fixed_dictionaries(
            {"func_name": st.sampled_from(["add", "divide", "nope", "big"])},
            optional={"a": json_values, "b": json_values, "n": st.integers(-5, 50)},
        ).map(encode_json_payload),
    )
)
def test_any_request_payload_gets_exactly_one_response(schema, payload):
    dispatcher = Dispatcher("unit-topic", schema)
    replies = run(dispatcher, message("request", payload))
    assert len(replies) == 1
    assert replies[0].envelope.properties["status"] in ("success", "error")


@pytest.mark.parametrize("topic", ["bad/topic", "../up", "a b", "x" * 300])
def test_a_response_topic_that_is_no_topic_name_is_ignored(dispatcher, topic, caplog):
    decision = dispatcher.route(message("ping", response_topic=topic))
    assert decision.replies == [] and decision.job is None
    assert "invalid topic name" in caplog.text


def test_the_python_clients_first_context_zero_is_valid(dispatcher):
    (reply,) = dispatcher.route(message("ping", context=0)).replies
    assert reply.envelope.properties["requestContext"] == "0"
    assert reply.envelope.context == "0"
