"""Fixtures shared by the whole suite: free ports, service checks."""

from __future__ import annotations

import os
import socket

import pytest

pytest_plugins = [
    "tests.brokerfixtures",
    "tests.memoryfixtures",
    "tests.refbroker.fixtures",
]

REQUIRE_SERVICES = os.environ.get("DASF_REQUIRE_SERVICES") == "1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def need_service(name: str, available: bool, how_to_start: str = "") -> None:
    """Skip (or, with DASF_REQUIRE_SERVICES=1 as in CI, fail) when a service is missing."""
    if available:
        return
    reason = f"{name} is not available here" + (
        f"; start it with: {how_to_start}" if how_to_start else ""
    )
    if REQUIRE_SERVICES:
        pytest.fail(f"DASF_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> str:
    need_service(
        "PostgreSQL on 127.0.0.1:5432",
        port_open("127.0.0.1", 5432),
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    )
    return os.environ.get("DASF_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


@pytest.fixture
def redis_url() -> str:
    need_service(
        "Redis on 127.0.0.1:6379", port_open("127.0.0.1", 6379), "redis-server --daemonize yes"
    )
    return os.environ.get("DASF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
