"""A stopped module shows as offline within seconds: broker API and ``%dasf modules``.

Real processes: the session's broker, ``dasf serve`` or a demessaging module in a child
process, stopped (SIGTERM) or killed (SIGKILL); nothing waits for the 90 s online window.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.refbroker.backend_process import ReferenceBackend
from tests.reliability.processes import wait_until_served
from tests.waiting import eventually

from .test_magics import shell  # noqa: F401 - the shell fixture

OFFLINE_WITHIN = 10.0  # s; the issue asks for "a few seconds", measured ~0.1 s here

MODULE = '''"""Weather helpers for the offline test."""


def wind(speed: float) -> float:
    """Double it."""
    return 2 * speed
'''


def topic_info(broker_url: str, topic: str) -> dict:
    base = broker_url.replace("ws://", "http://").rsplit("/ws", 1)[0]
    with urllib.request.urlopen(f"{base}/api/topics/{topic}/", timeout=10) as answer:  # noqa: S310
        return json.load(answer)


def wait_online(broker_url: str, topic: str, online: bool, timeout: float) -> float:
    """Seconds until the API shows ``online``; fails after ``timeout``."""
    start = time.monotonic()
    eventually(
        lambda: topic_info(broker_url, topic)["online"] is online,
        timeout=timeout,
        interval=0.1,
        message=f"{topic} to show online={online}",
    )
    return time.monotonic() - start


def serve(tmp_path: Path, broker_url: str, topic: str) -> subprocess.Popen:
    path = tmp_path / "weather.py"
    path.write_text(MODULE)
    process = subprocess.Popen(
        [sys.executable, "-m", "dasf_jupyter.cli", "serve", str(path)]
        + ["--topic", topic, "--url", broker_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_served(broker_url, topic, 60, process)
    return process


def row_of(shell, topic: str) -> tuple:  # noqa: F811
    table = shell.run_line_magic("dasf", "modules")
    return next(r for r in table.rows() if r[0] == topic)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_a_stopped_module_is_offline_within_seconds_and_keeps_its_description(
    shell,  # noqa: F811
    broker_url,
    tmp_path,
    stop,
):
    topic = f"offline-{uuid.uuid4().hex[:8]}"
    process = serve(tmp_path, broker_url, topic)
    try:
        wait_online(broker_url, topic, True, 30)
        shell.run_line_magic("dasf", f"connect {broker_url} --timeout 30")
        topic_, description, online, members = row_of(shell, topic)
        assert online == "yes" and "wind" in members
        assert "Weather helpers" in description
        process.send_signal(stop)
        process.wait(15)
        took = wait_online(broker_url, topic, False, OFFLINE_WITHIN)
        print(f"offline after {took:.2f} s")
        topic_, description, online, members = row_of(shell, topic)
        assert online == "no"
        assert "Weather helpers" in description  # not blank once offline
        assert topic_info(broker_url, topic)["description"].startswith("Weather helpers")
        # it comes back as soon as it serves again
        process = serve(tmp_path, broker_url, topic)
        wait_online(broker_url, topic, True, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_a_stopped_reference_module_is_offline_within_seconds(broker_url):
    topic = f"refoff-{uuid.uuid4().hex[:8]}"
    backend = ReferenceBackend(broker_url, topic).start()
    try:
        wait_online(broker_url, topic, True, 30)
    finally:
        backend.stop()
    wait_online(broker_url, topic, False, OFFLINE_WITHIN)


def test_a_second_replica_keeps_the_topic_online(broker_url, tmp_path):
    topic = f"replica-{uuid.uuid4().hex[:8]}"
    first = serve(tmp_path, broker_url, topic)
    second = serve(tmp_path, broker_url, topic)
    try:
        wait_online(broker_url, topic, True, 30)
        first.terminate()
        first.wait(15)
        time.sleep(2.0)  # what would have flipped it: nothing may, one replica still serves
        assert topic_info(broker_url, topic)["online"] is True
        second.terminate()
        second.wait(15)
        wait_online(broker_url, topic, False, OFFLINE_WITHIN)
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
                process.wait(10)


@pytest.mark.postgres
@pytest.mark.redis
def test_offline_across_brokers_sharing_redis_only_when_the_last_replica_stops(tmp_path):
    from tests.brokerfixtures import scaled_out_brokers

    topic = f"scaled-{uuid.uuid4().hex[:8]}"
    with scaled_out_brokers(tmp_path / "brokers", "offline") as (a, b):
        on_a = serve(tmp_path, a.url, topic)
        on_b = serve(tmp_path, b.url, topic)
        try:
            wait_online(a.url, topic, True, 30)
            on_b.terminate()
            on_b.wait(15)
            time.sleep(2.0)  # B's last consumer left, but A still serves the topic
            assert topic_info(b.url, topic)["online"] is True
            on_a.terminate()
            on_a.wait(15)
            wait_online(b.url, topic, False, OFFLINE_WITHIN)
        finally:
            for process in (on_a, on_b):
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
