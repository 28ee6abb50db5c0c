"""``dasf keygen`` and ``dasf serve --security/--key/--allow-list`` as real subprocesses."""

from __future__ import annotations

import re
import subprocess

from dasf_jupyter.client import connect
from tests.client.conftest import SAMPLE_MODULE
from tests.test_cli import DASF, _module_when_up, dasf

from .wired import new_topic


def test_keygen_then_serve_encrypted_required_with_an_allow_list(broker_url, tmp_path):
    made = dasf("keygen", "--out", str(tmp_path / "alice.pem"), "--comment", "alice")
    assert made.returncode == 0, made.stderr
    assert "dasf-ed25519 " in made.stdout and "fingerprint: SHA256:" in made.stdout
    allowed = tmp_path / "alice.pem.pub"  # the public line is the allow-list entry

    topic = new_topic("wcli")
    key = tmp_path / "module.pem"
    module_key = dasf("keygen", "--module", topic, "--out", str(key))
    assert module_key.returncode == 0, module_key.stderr
    fingerprint = re.search(r"fingerprint: (SHA256:\S+)", module_key.stdout).group(1)

    proc = subprocess.Popen(
        [*DASF, "serve", SAMPLE_MODULE, "--topic", topic, "--url", broker_url,
         "--security", "encrypted-required", "--key", str(key), "--allow-list", str(allowed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        with connect(
            broker_url, timeout=30, identity=tmp_path / "alice.pem", trust={topic: fingerprint}
        ) as conn:
            remote = _module_when_up(conn, topic, proc)
            assert remote.add(20, 22) == 42
        called = dasf(
            "call", broker_url, topic, "add", "--json", '{"a": 1, "b": 2}',
            "--identity", str(tmp_path / "alice.pem"), "--trust", fingerprint,
        )  # fmt: skip
        assert called.returncode == 0, called.stderr
        assert called.stdout.strip() == "3"
        anonymous = dasf("call", broker_url, topic, "add", "--json", '{"a": 1}')
        assert anonymous.returncode == 1
        assert "requires signed requests" in anonymous.stderr
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    with proc.stderr:
        assert f"key fingerprint {fingerprint}" in proc.stderr.read()
