"""The client session without sockets: envelopes in, events out, the clock a parameter."""

from __future__ import annotations

import logging
import os

import pytest

from dasf_jupyter.client.calls import CallState, request_ttl
from dasf_jupyter.client.events import Failed, Log, Ping, Progress, Result
from dasf_jupyter.client.session import ClientSession
from dasf_jupyter.errors import (
    BrokerRefused,
    CallTimeout,
    ConnectionLost,
    ModuleNotServed,
    PayloadTooLarge,
    RemoteError,
)
from dasf_jupyter.protocol import (
    MessageType,
    Prop,
    PublishAck,
    b64encode,
    encode_json_payload,
    encode_text_payload,
    split_payload,
)
from dasf_jupyter.protocol.envelope import Envelope
from dasf_jupyter.protocol.fragment_limits import FragmentLimits
from dasf_jupyter.security import ReplyOpener, RequestSecurity

TOPIC = "unit-topic"
REPLY_TOPIC = "unit-topic_abcdefghijklmnop"
BIG = 1 << 20


def session(**limits: float) -> ClientSession[CallState]:
    bounds = {"max_payload": BIG, "max_per_sender": BIG, "max_total": BIG, "timeout": 300.0}
    return ClientSession(TOPIC, REPLY_TOPIC, limits=FragmentLimits(**{**bounds, **limits}))


def started(s: ClientSession[CallState], context: str = "1", timeout: float = 10.0) -> CallState:
    call = CallState(context, TOPIC, "add()", timeout)
    s.send_request(call, Envelope(encode_json_payload({"func_name": "add"})), now=100.0)
    return call


def reply(kind: MessageType, context: str = "1", payload: str = "", **props: object) -> Envelope:
    properties = {Prop.MESSAGE_TYPE: kind.value, Prop.REQUEST_CONTEXT: context, **props}
    return Envelope(payload, properties)


def response(value: object, context: str = "1") -> Envelope:
    return reply(MessageType.RESPONSE, context, encode_json_payload(value))


# -- requests --------------------------------------------------------------------------------


def test_a_request_names_the_response_topic_context_no_hold_and_ttl() -> None:
    s = session()
    call = CallState("7", TOPIC, "add()", 20.0)
    [sent] = s.send_request(call, Envelope("e30=", {Prop.MESSAGE_TYPE: "request"}), now=5.0)
    assert sent.payload == "e30="
    assert sent.properties[Prop.RESPONSE_TOPIC] == REPLY_TOPIC
    assert sent.properties[Prop.REQUEST_CONTEXT] == "7"
    assert sent.properties[Prop.NO_HOLD] == "1"
    assert float(sent.properties[Prop.TTL]) == pytest.approx(request_ttl(20.0), abs=1e-3)
    assert call.deadline == 25.0
    assert s.get("7") is call


def test_a_request_is_fragmented_when_asked() -> None:
    s = session()
    payload = encode_json_payload({"func_name": "f", "x": "y" * 100})
    sent = s.send_request(CallState("1", TOPIC, "f()", 5.0), Envelope(payload), 0.0, 40)
    assert len(sent) == len(split_payload(payload, 40)) > 1
    assert "".join(e.payload for e in sent) == payload
    assert [e.properties[Prop.FRAGMENT] for e in sent] == list(range(len(sent)))
    assert {e.properties[Prop.NUM_FRAGMENTS] for e in sent} == {len(sent)}
    assert {e.properties[Prop.REQUEST_CONTEXT] for e in sent} == {"1"}


def test_a_binary_request_is_fragmented_into_raw_chunks() -> None:
    s = session()
    data = bytes(range(256)) * 4
    sent = s.send_request(CallState("1", TOPIC, "f()", 5.0), Envelope(data=data), 0.0, 300)
    assert len(sent) > 1
    assert b"".join(bytes(e.data or b"") for e in sent) == data


def test_a_closed_session_refuses_requests_and_fails_its_calls() -> None:
    s = session()
    call = started(s)
    [failed] = s.close(ConnectionLost("gone"))
    assert failed == Failed(call, failed.error)
    assert isinstance(failed.error, ConnectionLost)
    assert len(s) == 0
    with pytest.raises(ConnectionLost):
        started(s, "2")


# -- acks ------------------------------------------------------------------------------------


def test_an_ack_without_consumers_fails_the_call_as_not_served() -> None:
    s = session()
    call = started(s)
    [event] = s.acked(call, PublishAck("ok", "m1", 1, consumers=0))
    assert isinstance(event, Failed) and isinstance(event.error, ModuleNotServed)
    assert TOPIC in str(event.error)
    assert s.receive(response(3), 101.0) == []  # the call has ended


def test_an_ack_with_consumers_changes_nothing() -> None:
    s = session()
    call = started(s)
    assert list(s.acked(call, PublishAck("ok", "m1", 1, consumers=2))) == []
    assert list(s.acked(call, PublishAck("ok", "m1", 1))) == []  # not reported: trust it
    assert s.get("1") is call


def test_a_refused_publish_fails_the_call_with_broker_refused() -> None:
    s = session()
    call = started(s)
    [event] = s.acked(call, PublishAck("error", None, 1, error_msg="not allowed"))
    assert isinstance(event, Failed) and isinstance(event.error, BrokerRefused)
    assert "not allowed" in str(event.error) and "token" in str(event.error)


def test_a_refusal_raised_by_the_socket_is_explained_too() -> None:
    s = session()
    call = started(s)
    [event] = s.acked(call, BrokerRefused("HTTP 403", TOPIC))
    assert isinstance(event, Failed) and isinstance(event.error, BrokerRefused)
    assert "check that the topic exists" in str(event.error)


def test_a_lost_publish_fails_the_call_with_its_error() -> None:
    s = session()
    call = started(s)
    lost = ConnectionLost("closed")
    assert s.acked(call, lost) == [Failed(call, lost)]


def test_an_ack_after_the_call_ended_is_ignored() -> None:
    s = session()
    call = started(s)
    s.receive(response(1), 101.0)
    assert list(s.acked(call, PublishAck("ok", "m1", 1, consumers=0))) == []


# -- replies ---------------------------------------------------------------------------------


def test_a_response_resolves_the_call_and_ends_it() -> None:
    s = session()
    call = started(s)
    assert s.receive(response({"sum": 5}), 101.0) == [Result(call, {"sum": 5})]
    assert s.get("1") is None
    assert s.receive(response({"sum": 6}), 102.0) == []  # late duplicates are dropped


def test_an_error_response_fails_the_call_with_a_remote_error() -> None:
    s = session()
    call = started(s)
    envelope = reply(
        MessageType.RESPONSE,
        payload=encode_text_payload("ValueError: bad input"),
        status="error",
        dasf_error_type="ValueError",
    )
    [event] = s.receive(envelope, 101.0)
    assert isinstance(event, Failed) and event.call is call
    assert isinstance(event.error, RemoteError)
    assert "bad input" in str(event.error)


def test_progress_and_log_are_reported_and_extend_the_deadline() -> None:
    s = session()
    call = started(s, timeout=10.0)
    report = {"step_message": "half", "status": "running"}
    progress = reply(MessageType.PROGRESS, payload=encode_json_payload(report))
    assert s.receive(progress, 108.0) == [Progress(call, report)]
    assert call.deadline == 118.0
    record = {"level": "WARNING", "message": "slow"}
    assert s.receive(reply(MessageType.LOG, payload=encode_json_payload(record)), 115.0) == [
        Log(call, record)
    ]
    assert call.deadline == 125.0
    assert s.get("1") is call  # still running


def test_a_plain_text_log_becomes_an_info_record() -> None:
    s = session()
    call = started(s)
    envelope = reply(MessageType.LOG, payload=encode_text_payload("hello"))
    assert s.receive(envelope, 101.0) == [Log(call, {"level": "INFO", "message": "hello"})]


def test_a_bad_progress_message_is_a_warning_not_a_failure(caplog) -> None:
    s = session()
    call = started(s)
    with caplog.at_level(logging.WARNING):
        events = s.receive(reply(MessageType.PROGRESS, payload=encode_json_payload([1])), 101.0)
    assert events == []
    assert s.get("1") is call
    assert "ignoring a bad progress message" in caplog.text


def test_a_bad_response_fails_the_call() -> None:
    s = session()
    call = started(s)
    [event] = s.receive(reply(MessageType.RESPONSE, payload="not base64!"), 101.0)
    assert isinstance(event, Failed) and event.call is call
    assert s.get("1") is None


def test_pings_are_passed_on_to_be_answered() -> None:
    s = session()
    ping = Envelope("", {Prop.MESSAGE_TYPE: "ping", Prop.RESPONSE_TOPIC: "status-ping"})
    assert s.receive(ping, 1.0) == [Ping(ping)]


def test_probes_and_replies_to_unknown_calls_are_ignored() -> None:
    s = session()
    started(s)
    assert s.receive(reply(MessageType.API_INFO), 101.0) == []
    assert s.receive(response(1, context="99"), 101.0) == []
    assert s.receive(Envelope("", {Prop.MESSAGE_TYPE: "response"}), 101.0) == []
    assert len(s) == 1


def test_a_forgotten_call_gets_no_more_events() -> None:
    s = session()
    started(s)
    s.forget("1")
    assert s.receive(response(1), 101.0) == []


# -- fragments -------------------------------------------------------------------------------


def fragments(value: object, size: int, context: str = "1") -> list[Envelope]:
    chunks = split_payload(encode_json_payload(value), size)
    return [
        reply(
            MessageType.RESPONSE,
            context,
            chunk,
            **{Prop.FRAGMENT: i, Prop.NUM_FRAGMENTS: len(chunks)},
        )
        for i, chunk in enumerate(chunks)
    ]


def test_a_fragmented_response_resolves_once_all_fragments_are_in() -> None:
    s = session()
    call = started(s)
    value = {"data": list(range(50))}
    parts = fragments(value, 24)
    assert len(parts) > 2
    *first, last = parts
    for part in reversed(first):  # any order
        assert s.receive(part, 101.0) == []
    assert s.receive(last, 101.0) == [Result(call, value)]


def test_a_reply_over_the_limit_fails_its_call() -> None:
    s = session(max_payload=100)
    call = started(s)
    events = [e for part in fragments({"data": "x" * 200}, 40) for e in s.receive(part, 101.0)]
    assert len(events) == 1
    assert isinstance(events[0], Failed) and events[0].call is call
    assert isinstance(events[0].error, PayloadTooLarge)


def test_a_call_whose_fragments_are_dropped_for_room_fails() -> None:
    s = session(max_total=600)
    older, newer = started(s, "1"), started(s, "2")
    first = fragments({"data": "a" * 400}, 200, context="1")
    second = fragments({"data": "b" * 400}, 200, context="2")
    assert s.receive(first[0], 101.0) == []
    events = list(s.receive(second[0], 101.0)) + list(s.receive(second[1], 101.0))
    failed = [e for e in events if isinstance(e, Failed)]
    assert [e.call for e in failed] == [older]
    assert isinstance(failed[0].error, PayloadTooLarge)
    assert "dropped before all its fragments arrived" in str(failed[0].error)
    assert s.get("2") is newer


# -- time ------------------------------------------------------------------------------------


def test_calls_expire_by_the_clock_given() -> None:
    s = session()
    call = started(s, timeout=10.0)
    assert s.expire(109.9) == []
    [event] = s.expire(110.0)
    assert event.call is call and isinstance(event.error, CallTimeout)
    assert s.expire(200.0) == []


def test_an_unanswered_discovery_means_no_module() -> None:
    s = session()
    call = CallState("1", TOPIC, "api_info", 3.0, discovery=True)
    s.send_request(call, Envelope("", {Prop.MESSAGE_TYPE: "api_info"}), now=0.0)
    [event] = s.expire(3.0)
    assert isinstance(event.error, ModuleNotServed)


def test_a_call_needs_a_positive_timeout() -> None:
    with pytest.raises(ValueError, match="positive"):
        CallState("1", TOPIC, "f()", 0)


# -- sealed calls ----------------------------------------------------------------------------


def sealed_call(s: ClientSession[CallState]) -> tuple[CallState, RequestSecurity]:
    key = os.urandom(32)
    call = CallState("1", TOPIC, "add()", 10.0)
    call.opener = ReplyOpener(TOPIC, "1", key)
    s.send_request(call, Envelope("e30="), now=100.0)
    return call, RequestSecurity(TOPIC, "1", key)


def sealed(module: RequestSecurity, kind: MessageType, value: object) -> Envelope:
    props = {Prop.MESSAGE_TYPE: kind.value, Prop.REQUEST_CONTEXT: "1"}
    payload, props = module.outbound(encode_json_payload(value), props)
    return Envelope(payload, props)


def test_a_sealed_call_opens_its_replies() -> None:
    s = session()
    call, module = sealed_call(s)
    report = {"step_message": "half"}
    assert s.receive(sealed(module, MessageType.PROGRESS, report), 105.0) == [
        Progress(call, report)
    ]
    assert call.deadline == 115.0
    assert s.receive(sealed(module, MessageType.RESPONSE, 42), 106.0) == [Result(call, 42)]


def test_a_sealed_call_drops_unsealed_messages_without_extending_its_deadline() -> None:
    s = session()
    call, _ = sealed_call(s)
    progress = reply(MessageType.PROGRESS, payload=encode_json_payload({"step_message": "x"}))
    assert s.receive(progress, 105.0) == []
    assert s.receive(response(666), 105.0) == []
    assert s.guard.dropped == 2
    assert call.deadline == 110.0
    assert s.get("1") is call


def test_a_sealed_call_drops_replies_that_do_not_open() -> None:
    s = session()
    call, _ = sealed_call(s)
    _, stranger = sealed_call(session())  # sealed under another key
    assert s.receive(sealed(stranger, MessageType.RESPONSE, 666), 105.0) == []
    assert s.guard.dropped == 1
    assert call.deadline == 110.0
    assert s.get("1") is call


def test_a_sealed_call_accepts_an_unsealed_error_response() -> None:
    s = session()
    call, _ = sealed_call(s)
    refusal = reply(
        MessageType.RESPONSE, payload=encode_text_payload("cannot open"), status="error"
    )
    [event] = s.receive(refusal, 105.0)
    assert isinstance(event, Failed) and isinstance(event.error, RemoteError)


def test_fragments_of_a_sealed_reply_extend_the_deadline_only_once_opened() -> None:
    s = session()
    call, module = sealed_call(s)
    whole = sealed(module, MessageType.RESPONSE, {"data": "z" * 200})
    chunks = split_payload(whole.payload, 64)
    parts = [
        Envelope(c, {**whole.properties, Prop.FRAGMENT: i, Prop.NUM_FRAGMENTS: len(chunks)})
        for i, c in enumerate(chunks)
    ]
    for part in parts[:-1]:
        assert s.receive(part, 105.0) == []
    assert call.deadline == 110.0
    assert s.receive(parts[-1], 106.0) == [Result(call, {"data": "z" * 200})]


def test_binary_payloads_of_sealed_replies_are_opened_as_base64() -> None:
    s = session()
    call, module = sealed_call(s)
    message = sealed(module, MessageType.RESPONSE, 7)
    raw = Envelope(data=_b64decode(message.payload), properties=message.properties)
    assert s.receive(raw, 101.0) == [Result(call, 7)]
    assert b64encode(bytes(raw.data or b"")) == message.payload


def _b64decode(text: str) -> bytes:
    import base64

    return base64.b64decode(text)
