"""``%dasf connect --trust/--identity``, ``%%dasf module --security`` and forms, encrypted."""

from __future__ import annotations

import base64
import re

import pytest

from dasf_jupyter.security import KeyChanged
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket
from tests.jupyter.test_magics import magics_of, shell  # noqa: F401 - the shell fixture

from .wired import allow_file, make_identity, new_topic

CELL = '''\
from dasf_jupyter.security import Caller


def add(a: int, b: int = 1) -> int:
    """Add two numbers."""
    return a + b


def whoami(caller: Caller) -> str:
    return f"hello {caller.name}"
'''


@pytest.fixture
def encrypted_cell(shell, broker_url, tmp_path, capsys):  # noqa: F811
    """A cell module served encrypted-required for alice; yields (topic, fingerprint, key)."""
    alice, alice_path = make_identity(tmp_path, "alice")
    allowed = allow_file(tmp_path, alice.public_line("alice"))
    topic = new_topic("wjup")
    shell.run_line_magic("dasf", f"connect {broker_url} --timeout 30")
    shell.run_cell_magic(
        "dasf",
        f"module {topic} --security encrypted-required --key {tmp_path / 'cell.pem'} "
        f"--allow-list {allowed}",
        CELL,
    )
    out = capsys.readouterr().out
    found = re.search(r"encrypted-required, key fingerprint (SHA256:\S+)", out)
    assert found, out
    yield topic, found.group(1), alice_path
    shell.run_line_magic("dasf", "stop --all")
    shell.run_line_magic("dasf", "disconnect")


def test_connect_with_trust_and_identity_calls_the_encrypted_cell_module(
    shell,  # noqa: F811
    broker_url,
    encrypted_cell,
):
    topic, fingerprint, alice_path = encrypted_cell
    shell.run_line_magic(
        "dasf", f"connect {broker_url} --trust {topic}={fingerprint} --identity {alice_path}"
    )
    assert shell.run_line_magic("dasf", f"call {topic}.whoami") == "hello alice"
    assert shell.run_line_magic("dasf", f"call {topic}.add a=2 b=3") == 5

    wrong = "SHA256:" + "B" * 43
    shell.run_line_magic("dasf", f"connect {broker_url} --trust {topic}={wrong}")
    with pytest.raises(KeyChanged, match="--trust"):
        shell.run_line_magic("dasf", f"call {topic}.add a=1")


def test_trust_option_must_name_a_fingerprint(shell):  # noqa: F811
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="TOPIC=SHA256:FINGERPRINT"):
        shell.run_line_magic("dasf", "connect ws://127.0.0.1:1/ws --trust topic-only")


def test_form_runs_against_the_encrypted_module_through_the_connection(
    shell,  # noqa: F811
    broker_url,
    encrypted_cell,
):
    from dasf_jupyter.jupyter.form_runner import module_form

    topic, fingerprint, alice_path = encrypted_cell
    shell.run_line_magic(
        "dasf", f"connect {broker_url} --trust {topic}={fingerprint} --identity {alice_path}"
    )
    spy = ConsumerSocket(BrokerUrl.parse(broker_url).consumer(topic, "form-spy"))
    try:
        form = module_form(magics_of(shell).session.connection, topic, "add", {}, 30)
        form.fill({"a": 20, "b": 22})
        assert form.run() and form.wait(30)
        assert form.error is None and form.result == 42
        requests = []
        while not requests:
            envelope = spy.receive(10)
            if envelope.message_type == "request":
                requests.append(envelope)
    finally:
        spy.close()
    # the form's request went out sealed and signed, like any call on the connection
    assert requests[0].properties["dasf_e2e"] == "v1"
    assert "dasf_sig" in requests[0].properties
    assert b"func_name" not in base64.b64decode(requests[0].payload)
