"""A broker cannot downgrade a pinned, trusted or required module to plaintext.

The client first calls the real, sealed module through a real broker (pinning its key); then
a forged broker serves the same topic with api_info stripped of its security block (or with
the attacker's key). Every caller path must refuse before a request leaves the client.
"""

from __future__ import annotations

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.security import (
    DowngradeRefused,
    EncryptionUnavailable,
    KeyChanged,
    KnownModules,
    ModuleKeyPair,
)
from tests.jupyter.test_magics import shell  # noqa: F401 - the shell fixture
from tests.test_cli import dasf

from .forged import forged_broker, rekeyed, stripped
from .wired import client, new_topic, serve  # noqa: F401 - fixtures

SECRET = "the-secret-argument-7f3a"


@pytest.fixture
def pinned_module(broker_url, serve, tmp_path, private_data_home):  # noqa: F811
    """A sealed module, called once so its key is pinned; yields (topic, module, pin file)."""
    topic = new_topic("dgr")
    module, _ = serve(broker_url, topic, security="encrypted-optional")
    known = KnownModules()  # the per-user default file (in the test's XDG_DATA_HOME)
    with connect(broker_url, timeout=30) as conn:
        assert conn.module(topic).add(1, 2) == 3
    assert known.get(topic) == module.security.info().fingerprint
    return topic, module, known


def test_stripped_api_info_is_refused_on_every_python_path(broker_url, pinned_module):
    topic, module, known = pinned_module
    with (
        forged_broker(stripped(module.api_info())) as (forged, fake),
        connect(forged.url, timeout=10) as conn,
    ):
        with pytest.raises(DowngradeRefused) as info:
            conn.module(topic)
        message = str(info.value)
        assert repr(topic) in message and str(known.path) in message
        assert known.get(topic) in message and ".forget(" in message
        # the raw call API: no discovery by the caller, still no plaintext
        with pytest.raises(DowngradeRefused):
            conn.call(topic, {"func_name": "echo", "text": SECRET})
        with pytest.raises(DowngradeRefused):
            conn.submit(topic, {"func_name": "echo", "text": SECRET}).result(10)
    assert fake.requests == [] and not fake.plaintext_seen(SECRET)
    # the legitimate module through the real broker keeps working, still sealed
    with connect(broker_url, timeout=30) as conn:
        assert conn.module(topic).echo(SECRET) == SECRET
        assert conn.call(topic, {"func_name": "add", "a": 2, "b": 2}) == 4


def test_trust_and_encrypt_required_refuse_a_stripped_module(pinned_module, tmp_path):
    topic, module, _ = pinned_module
    fingerprint = module.security.info().fingerprint
    with forged_broker(stripped(module.api_info())) as (forged, fake):
        unpinned = tmp_path / "fresh_known_modules"
        with (
            connect(forged.url, known_modules=unpinned, trust={topic: fingerprint}) as conn,
            pytest.raises(DowngradeRefused, match="you trust its key"),
        ):
            conn.call(topic, {"func_name": "echo", "text": SECRET})
        with (
            connect(forged.url, known_modules=unpinned, encrypt="required") as conn,
            pytest.raises(EncryptionUnavailable, match='encrypt="always"'),
        ):
            conn.call(topic, {"func_name": "echo", "text": SECRET})
    assert fake.requests == []


def test_substituted_key_is_refused_with_both_fingerprints(pinned_module):
    topic, module, known = pinned_module
    attacker = ModuleKeyPair.generate()
    with (
        forged_broker(rekeyed(module.api_info(), attacker)) as (forged, fake),
        connect(forged.url, timeout=10) as conn,
        pytest.raises(KeyChanged) as info,
    ):
        conn.call(topic, {"func_name": "echo", "text": SECRET})
    message = str(info.value)
    assert known.get(topic) in message and attacker.fingerprint in message
    assert ".accept(" in message and "trust=" in message
    assert fake.requests == []


def test_dasf_call_cli_refuses_the_downgrade(pinned_module, private_data_home):
    topic, module, _ = pinned_module
    with forged_broker(stripped(module.api_info())) as (forged, fake):
        result = dasf(
            "call", forged.url, topic, "echo", "--json", f'{{"text": "{SECRET}"}}',
            "--timeout", "10", XDG_DATA_HOME=str(private_data_home),
        )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DowngradeRefused" in result.stderr and topic in result.stderr
    assert fake.requests == [] and SECRET not in result.stdout


def test_dasf_magics_refuse_the_downgrade(pinned_module, shell):  # noqa: F811
    topic, module, _ = pinned_module
    with forged_broker(stripped(module.api_info())) as (forged, fake):
        shell.run_line_magic("dasf", f"connect {forged.url} --timeout 10")
        try:
            with pytest.raises(DowngradeRefused):
                shell.run_line_magic("dasf", f"call {topic}.echo text='{SECRET}'")
        finally:
            shell.run_line_magic("dasf", "disconnect")
    assert fake.requests == []
