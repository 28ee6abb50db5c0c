"""Topic, subscription and response-topic names: one table, every user of the rules agrees.

The broker's validators and routes are checked against the same tables in
``tests/broker/test_names_agree.py`` (they need Django and a live broker).
"""

from __future__ import annotations

import pytest

from dasf_jupyter.backend.reply_topics import may_reply_to
from dasf_jupyter.client.channel import response_topic_for
from dasf_jupyter.errors import DasfError, InvalidName
from dasf_jupyter.protocol import STATUS_PING_TOPIC
from dasf_jupyter.protocol import names as rules
from dasf_jupyter.transport import BrokerUrl, check_subscription, check_topic

#: (name, valid as a topic)
TOPICS = [
    ("a", True),
    ("A9", True),
    ("9lives", True),
    ("probe-topic", True),
    ("a.b", True),
    ("a_b-c.d", True),
    ("status-ping", True),
    ("x" * 200, True),
    ("", False),
    ("-x", False),
    ("_x", False),
    (".x", False),
    ("..", False),
    ("a..b", False),
    ("x" * 201, False),
    ("ä", False),
    ("a b", False),
    ("a/b", False),
    ("a+b", False),
    ("a:b", False),
    ("a%b", False),
    ("ab\n", False),  # '$' of a regex matches before a final newline: fullmatch does not
    ("a\nb", False),
]

#: (name, valid as a subscription): what the broker enforces, a superset of what
#: dasf-broker-django routes ([-.:\w]+), i.e. every name a reference client uses
SUBSCRIPTIONS = [
    ("backend-module", True),
    ("backend-module-2024-05-01T12:00:00", True),
    ("web-frontend-2024-05-01T12:00:00.000Z", True),
    ("python-backend-2024-05-01T12:00:00.000001", True),
    ("python-client-0123456789abcdef", True),
    ("ts-2024-05-01T12:00:00+00:00", True),
    ("-x", True),
    ("_", True),
    ("ü", True),
    ("x" * 200, True),
    ("", False),
    ("a b", False),
    ("a/b", False),
    ("a#b", False),
    ("a?b", False),
    ("a%b", False),
    ("a@b", False),
    ("x" * 201, False),
    ("s\n", False),
]


def _accepted(check, name: str) -> bool:
    try:
        check(name)
    except InvalidName:
        return False
    return True


@pytest.mark.parametrize(("name", "valid"), TOPICS, ids=lambda v: repr(v)[:20])
def test_every_client_side_user_agrees_on_topic_names(name, valid):
    url = BrokerUrl.parse("ws://localhost:8000/ws")
    assert (rules.topic_name_error(name) is None) is valid
    assert _accepted(check_topic, name) is valid
    assert _accepted(url.producer, name) is valid
    assert _accepted(lambda n: url.consumer(n, "s"), name) is valid


@pytest.mark.parametrize(("name", "valid"), SUBSCRIPTIONS, ids=lambda v: repr(v)[:20])
def test_every_client_side_user_agrees_on_subscription_names(name, valid):
    url = BrokerUrl.parse("ws://localhost:8000/ws")
    assert (rules.subscription_name_error(name) is None) is valid
    assert _accepted(check_subscription, name) is valid
    assert _accepted(lambda n: url.consumer("t", n), name) is valid


def test_a_refused_name_is_a_dasf_error_and_a_value_error():
    with pytest.raises(DasfError, match="invalid topic name"):
        check_topic("a..b")
    with pytest.raises(ValueError, match="invalid subscription name"):
        check_subscription("a b")


def test_a_subscription_is_quoted_into_one_path_segment():
    url = BrokerUrl.parse("ws://localhost:8000/ws")
    assert url.consumer("t", "a+b:c.d") == "ws://localhost:8000/ws/t/a%2Bb:c.d"
    assert url.consumer("t", "ü") == "ws://localhost:8000/ws/t/%C3%BC"


@pytest.mark.parametrize("topic", ["t", "probe-topic", "a.b", "x" * 183, "y" * 200])
def test_clients_response_topics_are_valid_names_the_module_and_broker_accept(topic):
    response = response_topic_for(topic)
    assert rules.topic_name_error(response) is None
    assert rules.derives_from(response, topic)
    assert rules.naming_refusal(topic, response) is None
    assert may_reply_to(topic, response)
    assert topic[: rules.RESPONSE_TOPIC_PREFIX_LENGTH] in rules.source_candidates(response)


@pytest.mark.parametrize(
    ("response", "source", "derives"),
    [
        ("t_abc", "t", True),
        ("t_", "t", False),
        ("t", "t", False),
        ("tx_abc", "t", False),
        ("other_abc", "t", False),
        ("x" * 183 + "_s", "x" * 200, True),
        ("x" * 190 + "_s", "x" * 200, False),
    ],
)
def test_response_topic_naming_is_one_rule_for_broker_and_module(response, source, derives):
    assert rules.derives_from(response, source) is derives
    assert (rules.naming_refusal(source, response) is None) is derives
    assert may_reply_to(source, response) is derives


def test_a_module_answers_probes_on_the_status_topic():
    assert may_reply_to("t", STATUS_PING_TOPIC)
    assert rules.source_candidates("a_b_c") == ["a_b", "a"]
