"""Members and fixtures for the wired tests: our BackendModule and client with security on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dasf_jupyter.backend import BackendModule, ProgressReporter
from dasf_jupyter.client import Connection, connect
from dasf_jupyter.security import Caller, IdentityKey


def add(a: int, b: int = 1) -> int:
    """Add two numbers."""
    return a + b


def whoami(caller: Caller) -> str:
    """Greet the verified caller."""
    return f"hello {caller.name}"


def echo(text: str) -> str:
    """Return the text."""
    return text


def repeat(text: str, times: int) -> str:
    """The text ``times`` times (large results)."""
    return text * times


def counted(steps: int, reporter: ProgressReporter) -> int:
    """Report one progress step per count."""
    with reporter.step("Counting", steps=steps) as sub:
        for _ in range(steps):
            sub.advance()
    return steps


MEMBERS = [add, whoami, echo, repeat, counted]


def new_topic(prefix: str = "wsec") -> str:
    # short: dasf-broker-django topic slugs are limited to 50 characters
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_identity(folder: Path, name: str) -> tuple[IdentityKey, Path]:
    """A saved identity (as `dasf keygen` writes it) and the path of its private key."""
    identity = IdentityKey.generate()
    path = folder / f"{name}.pem"
    identity.save(path, comment=name)
    return identity, path


def allow_file(folder: Path, *lines: str) -> Path:
    path = folder / "allowed_users"
    path.write_text("".join(line + "\n" for line in lines))
    return path


@pytest.fixture
def serve(tmp_path) -> Iterator:
    """``serve(url, topic, **module_options) -> (module, handle)``; stopped at teardown."""
    handles: list[Any] = []

    def start(url: str, topic: str, members=MEMBERS, **options: Any):
        options.setdefault("key_path", tmp_path / f"{topic}.x25519.pem")
        module = BackendModule(topic, members, **options)
        handle = module.serve_in_background(url)
        handles.append(handle)
        return module, handle

    yield start
    for handle in handles:
        handle.stop(5)


@pytest.fixture
def client(tmp_path) -> Iterator:
    """``client(url, **connect_options) -> Connection`` pinning in a temp file; closed after."""
    connections: list[Connection] = []

    def open_connection(url: str, **options: Any) -> Connection:
        options.setdefault("known_modules", tmp_path / "known_modules")
        options.setdefault("timeout", 60)
        conn = connect(url, **options)
        connections.append(conn)
        return conn

    yield open_connection
    for conn in connections:
        conn.close()
