"""Schemathesis against the live broker's discovery API, driven by its own /api/openapi.json."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from dasf_jupyter.broker.process import BrokerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def live_broker(tmp_path_factory):
    """A secure broker with one user, one token and a few topics (stopped afterwards)."""
    with BrokerProcess(data_dir=tmp_path_factory.mktemp("openapi"), secure=True) as broker:
        for args in (
            ("dasf_user", "create", "alice"),
            ("dasf_topic", "create", "mod-a", "--owner", "alice"),
            ("dasf_topic", "create", "pub-b", "--public"),
        ):
            assert broker.manage(*args).returncode == 0
        token = broker.manage("dasf_token", "create", "alice").stdout.strip()
        yield broker, token


def test_the_discovery_api_conforms_to_its_openapi_description(live_broker):
    broker, token = live_broker
    schema = schemathesis.openapi.from_url(f"{broker.http_url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document describes no operation"
    for operation in operations:
        for headers in ({}, {"Authorization": f"Token {token}"}):
            check_operation(operation, headers)


def check_operation(operation, headers: dict[str, str]) -> None:
    """Bounded generated cases of one operation: responses must match the description."""

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        case.headers = {**(case.headers or {}), **headers}
        case.call_and_validate()

    run()
