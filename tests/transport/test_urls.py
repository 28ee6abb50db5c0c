"""Topic URLs for DASF-style and Pulsar-style brokers."""

from __future__ import annotations

import pytest

from dasf_jupyter.transport import BrokerUrl, auth_headers, check_topic


def test_dasf_base_url_builds_reference_paths():
    url = BrokerUrl.parse("ws://localhost:8000/ws")
    assert url.producer("probe-topic") == "ws://localhost:8000/ws/probe-topic"
    assert (
        url.consumer("probe-topic_abc", "python-backend-2024-05-01T12:00:00.000001")
        == "ws://localhost:8000/ws/probe-topic_abc/python-backend-2024-05-01T12:00:00.000001"
    )
    assert url.http_base == "http://localhost:8000"


def test_trailing_slash_and_http_scheme_are_accepted():
    url = BrokerUrl.parse("https://broker.example.org/ws/")
    assert url.producer("t") == "wss://broker.example.org/ws/t"
    assert url.http_base == "https://broker.example.org"


def test_pulsar_url_builds_v2_paths():
    url = BrokerUrl.parse("ws://localhost:8080/ws/v2/non-persistent/public/default")
    assert (
        url.producer("t") == "ws://localhost:8080/ws/v2/producer/non-persistent/public/default/t"
    )
    assert (
        url.consumer("t", "sub")
        == "ws://localhost:8080/ws/v2/consumer/non-persistent/public/default/t/sub"
    )
    assert BrokerUrl.parse("ws://h:1/ws/v2").pulsar == ("non-persistent", "public", "default")


@pytest.mark.parametrize("bad", ["", "../etc", "a/b", "a\nb", "-x", "a..b", "x" * 201, "ä"])
def test_invalid_topic_names_are_refused(bad):
    with pytest.raises(ValueError, match="invalid topic"):
        check_topic(bad)


def test_non_websocket_url_is_refused():
    with pytest.raises(ValueError, match="not a websocket URL"):
        BrokerUrl.parse("ftp://x/ws")


def test_token_goes_into_the_authorization_header():
    assert auth_headers("abc") == {"Authorization": "Token abc"}
    assert auth_headers(None) == {}


def test_an_in_memory_broker_url_has_topic_urls_and_an_http_base_of_its_own():
    url = BrokerUrl.parse("memory://dasf/ws")
    assert url.producer("t") == "memory://dasf/ws/t"
    assert url.consumer("t", "s") == "memory://dasf/ws/t/s"
    assert url.http_base == "memory://dasf"
