"""Runs the TypeScript DASF client's jest suites: unit tests, and against a live broker."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.broker.process import BrokerProcess
from tests.labextension.conftest import LABEXTENSION
from tests.protocol.test_names import TOPICS
from tests.refbroker.process import ReferenceBroker

PEER_FRAGMENT_SIZE = 1000  # small, so that a few kB of result travel as several fragments
JEST_TIMEOUT = 600  # s


def _jest(node_modules: Path, *args: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        [str(node_modules / ".bin" / "jest"), "--ci", *args],
        cwd=LABEXTENSION,
        env={**os.environ, **(env or {}), "DASF_TEST_INTEGRATION": "1" if env else ""},
        capture_output=True,
        text=True,
        timeout=JEST_TIMEOUT,
    )
    # jest reports on stderr; show it when the assertion fails
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A broker serving the climate example and the peer module; their env for jest."""
    # a short hold for unserved topics, so that test's error arrives quickly
    broker = BrokerProcess(
        data_dir=tmp_path_factory.mktemp("ts-broker"), env={"DASF_UNSERVED_TIMEOUT": "2"}
    )
    broker.start()
    handles = []
    try:
        climate = BackendModule.from_path("dasf_jupyter.examples.climate", "ts-climate")
        handles.append(climate.serve_in_background(broker.url))
        peer = BackendModule.from_path(
            str(Path(__file__).with_name("peer_module.py")),
            "ts-peer",
            fragment_size=PEER_FRAGMENT_SIZE,
        )
        handles.append(peer.serve_in_background(broker.url))
        yield {
            "DASF_TEST_BROKER_URL": broker.url,
            "DASF_TEST_CLIMATE_TOPIC": "ts-climate",
            "DASF_TEST_PEER_TOPIC": "ts-peer",
            "DASF_TEST_PEER_FRAGMENT_SIZE": str(PEER_FRAGMENT_SIZE),
        }
    finally:
        for handle in handles:
            handle.stop()
        broker.stop()


def test_ts_client_unit_suites_pass(node_modules: Path) -> None:
    _jest(node_modules, "--testPathIgnorePatterns", "integration")


def test_ts_client_agrees_with_python_on_every_topic_name(
    node_modules: Path, tmp_path: Path
) -> None:
    cases = tmp_path / "topic_names.json"
    cases.write_text(json.dumps(TOPICS))
    _jest(node_modules, "test/urls.test.ts", env={"DASF_TEST_NAME_CASES": str(cases)})


def test_ts_client_talks_to_live_broker_and_python_backend(
    node_modules: Path, live_stack: dict[str, str]
) -> None:
    _jest(node_modules, "test/integration.test.ts", env=live_stack)


def test_ts_client_talks_to_reference_broker_and_demessaging_backend(
    node_modules: Path, ref_broker_url: str, ref_topic: str, ref_backend
) -> None:
    # demessaging's fragment size, small: a few hundred bytes of result make several fragments
    ref_backend(ref_broker_url, ref_topic, max_payload_size=200)
    with ReferenceBroker(anonymous_can_create=False) as closed:
        _jest(
            node_modules,
            "test/integration-reference.test.ts",
            env={
                "DASF_TEST_REF_BROKER_URL": ref_broker_url,
                "DASF_TEST_REF_TOPIC": ref_topic,
                "DASF_TEST_REF_CLOSED_BROKER_URL": closed.url,
            },
        )
