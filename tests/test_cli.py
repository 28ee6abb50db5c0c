"""The ``dasf`` command, run as a real entry point in subprocesses against a live broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dasf_jupyter.client import connect
from tests.client.conftest import SAMPLE_MODULE, fresh_topic, serve_sample
from tests.waiting import eventually

_SCRIPT = Path(sys.executable).with_name("dasf")
DASF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "dasf_jupyter.cli"]


def dasf(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    return subprocess.run(
        [*DASF, *args], capture_output=True, text=True, timeout=timeout, env=environment
    )


@pytest.fixture(scope="module")
def served(broker_url):
    topic = fresh_topic("cli")
    with serve_sample(broker_url, topic):
        yield broker_url, topic


def test_schema_prints_the_api_info_of_a_file():
    result = dasf("schema", SAMPLE_MODULE, "--topic", "sample")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    names = {f["name"] for f in info["functions"]}
    assert {"add", "same_dataarray", "count_slowly"} <= names
    assert [c["name"] for c in info["classes"]] == ["Counter"]


def test_schema_of_a_missing_file_is_a_usage_error(tmp_path):
    result = dasf("schema", str(tmp_path / "missing.py"))
    assert result.returncode == 2
    assert "missing.py" in result.stderr


def test_usage_errors_exit_with_2():
    assert dasf().returncode == 2
    assert dasf("call", "ws://127.0.0.1:1/ws").returncode == 2


def test_serve_refuses_an_invalid_subscription_name_before_connecting():
    result = dasf(
        "serve", SAMPLE_MODULE, "-t", "x", "--url", "ws://127.0.0.1:1/ws", "--subscription", "a b"
    )
    assert result.returncode == 2
    assert "invalid subscription name 'a b'" in result.stderr


def test_call_prints_the_json_result(served):
    url, topic = served
    result = dasf("call", url, topic, "add", "--json", '{"a": 2, "b": 3}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == 5


def test_call_of_a_class_method(served):
    url, topic = served
    result = dasf(
        "call", url, topic, "Counter.plus", "--init", '{"start": 1}', "--json", '{"n": 2}'
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == 3


def test_call_prints_xarray_as_repr_or_raw_json(served):
    url, topic = served
    result = dasf("call", url, topic, "big_grid", "--json", '{"n": 3}')
    assert result.returncode == 0, result.stderr
    assert "xarray.DataArray" in result.stdout
    raw = dasf("call", url, topic, "big_grid", "--json", '{"n": 3}', "--raw")
    assert raw.returncode == 0, raw.stderr
    assert json.loads(raw.stdout).startswith("Q0RG")  # base64 of netCDF3's magic "CDF"


def test_a_remote_error_exits_with_1_and_says_why(served):
    url, topic = served
    result = dasf("call", url, topic, "fail", "--json", '{"message": "boom here"}')
    assert result.returncode == 1
    assert "ValueError" in result.stderr and "boom here" in result.stderr


def test_bad_arguments_exit_with_2(served):
    url, topic = served
    assert dasf("call", url, topic, "add", "--json", "not json").returncode == 2
    missing = dasf("call", url, topic, "add", "--json", "{}")
    assert missing.returncode == 2
    assert "missing a required argument: 'a'" in missing.stderr
    unknown = dasf("call", url, topic, "nope")
    assert unknown.returncode == 2
    assert "available" in unknown.stderr


def test_the_token_comes_from_dasf_token(served):
    # our broker refuses unknown tokens at the handshake: proof that DASF_TOKEN was sent
    url, topic = served
    result = dasf("call", url, topic, "add", "--json", '{"a": 1}', DASF_TOKEN="not-a-token")
    assert result.returncode == 1
    assert "401" in result.stderr and "token" in result.stderr


def test_serve_serves_a_file_until_stopped(broker_url):
    topic = fresh_topic("clis")
    with subprocess.Popen(  # the context closes the stderr pipe
        [*DASF, "serve", SAMPLE_MODULE, "--topic", topic, "--url", broker_url, "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            with connect(broker_url, timeout=30) as conn:
                remote = _module_when_up(conn, topic, proc)
                assert remote.add(20, 22) == 42
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _module_when_up(conn, topic, proc, patience: float = 60.0):
    from dasf_jupyter.errors import ModuleNotServed

    def module():
        if proc.poll() is not None:
            pytest.fail(f"dasf serve exited with {proc.returncode}: {proc.stderr.read()}")
        return conn.module(topic, timeout=5)

    return eventually(
        module,
        timeout=patience,
        interval=0.5,
        retry_on=(ModuleNotServed,),
        message=f"`dasf serve` to serve {topic!r}",
    )


def test_modules_lists_served_topics(served):
    url, topic = served
    result = dasf("modules", url)
    assert result.returncode == 0, result.stderr
    assert "TOPIC" in result.stdout
    assert topic in result.stdout
