"""The broker accepts exactly the topic and subscription names the client accepts.

The tables are those of ``tests/protocol/test_names.py``; here each name also goes through
the broker's validators and, over a real websocket, through its routes.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dasf_jupyter.broker.models import topic_name_error
from dasf_jupyter.broker.response_topics import derives_from, naming_refusal
from dasf_jupyter.broker.subscriptions import subscription_name_error
from dasf_jupyter.protocol import names as rules
from dasf_jupyter.transport import BrokerUrl
from tests.broker.test_routes import unique_topic
from tests.protocol.test_names import SUBSCRIPTIONS, TOPICS


def _client_url(broker_url: str, topic: str, subscription: str | None) -> str:
    """The URL our client builds; a refused name is quoted into one segment by hand."""
    url = BrokerUrl.parse(broker_url)
    try:
        if subscription is None:
            return url.producer(topic)
        return url.consumer(topic, subscription)
    except ValueError:
        tail = quote(topic, safe="")
        if subscription is not None:
            tail += "/" + quote(subscription, safe="")
        return f"{broker_url}/{tail}"


def _broker_accepts(url: str) -> bool:
    try:
        with connect(url, open_timeout=10):
            return True
    except InvalidStatus as exc:
        assert exc.response.status_code in (400, 404), exc.response.body
        return False


@pytest.mark.parametrize(("name", "valid"), TOPICS, ids=lambda v: repr(v)[:20])
def test_broker_validator_agrees_with_the_client_on_topic_names(name, valid):
    assert (topic_name_error(name) is None) is valid
    assert (topic_name_error(name) is None) is (rules.topic_name_error(name) is None)


@pytest.mark.parametrize(("name", "valid"), SUBSCRIPTIONS, ids=lambda v: repr(v)[:20])
def test_broker_validator_agrees_with_the_client_on_subscription_names(name, valid):
    assert (subscription_name_error(name) is None) is valid


# "" and "/" are not one path segment: no URL can carry them
LIVE_TOPICS = [(n, v) for n, v in TOPICS if n and "/" not in n]
LIVE_SUBSCRIPTIONS = [(n, v) for n, v in SUBSCRIPTIONS if n and "/" not in n]


@pytest.mark.parametrize(("name", "valid"), LIVE_TOPICS, ids=lambda v: repr(v)[:20])
def test_live_broker_routes_exactly_the_valid_topic_names(broker_url, name, valid):
    assert _broker_accepts(_client_url(broker_url, name, None)) is valid


@pytest.mark.parametrize(("name", "valid"), LIVE_SUBSCRIPTIONS, ids=lambda v: repr(v)[:20])
def test_live_broker_routes_exactly_the_valid_subscription_names(broker_url, name, valid):
    assert _broker_accepts(_client_url(broker_url, unique_topic(), name)) is valid


def test_broker_response_topic_rules_are_the_protocol_rules():
    assert derives_from is rules.derives_from
    assert naming_refusal is rules.naming_refusal
