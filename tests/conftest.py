"""Fixtures shared by the whole suite: free ports, service checks."""

from __future__ import annotations

import concurrent.futures.thread
import os
import socket
import sys
import threading

import pytest

from tests.waiting import eventually

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


# A test leaves no thread working behind: a thread left running makes later tests depend on it
# (it may still hold a socket, a lock or the process-wide output routing). Checked after the
# test and its fixtures are torn down, with a grace for threads told to stop:
# - non-daemon threads started by the test body have ended (threads started while fixtures
#   are set up belong to those fixtures: a session-scoped broker lives on);
# - every executor worker thread is idle (a pool outlives the test that first used it, e.g.
#   a module-scoped served module's or asgiref's, but a call still running in it is a leak).
THREAD_GRACE = 10.0


def _is_pool_worker(thread: threading.Thread) -> bool:
    return getattr(thread, "_target", None) is concurrent.futures.thread._worker


def _working_threads(before: set[threading.Thread]) -> list[str]:
    frames = sys._current_frames()
    found = []
    for thread in threading.enumerate():
        if not thread.is_alive():
            continue
        if _is_pool_worker(thread):
            frame = frames.get(thread.ident or -1)
            # an idle worker waits in SimpleQueue.get (C code): its innermost frame is _worker
            if (
                frame is not None
                and frame.f_code is not concurrent.futures.thread._worker.__code__
            ):
                found.append(f"{thread.name} running {frame.f_code.co_name}()")
        elif not thread.daemon and thread not in before:
            found.append(thread.name)
    return sorted(found)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    item.stash[_threads_before_call] = set(threading.enumerate())
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    result = yield
    before = item.stash.get(_threads_before_call, None)
    if before is not None:  # None: the test did not run
        eventually(
            lambda: not _working_threads(before),
            timeout=THREAD_GRACE,
            interval=0.02,
            message=lambda: (
                f"the threads left working by {item.nodeid} to end: "
                + ", ".join(_working_threads(before))
            ),
        )
    return result


_threads_before_call = pytest.StashKey[set[threading.Thread]]()
