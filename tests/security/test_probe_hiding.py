"""Review finding: a stranger must not silence the liveness probes of someone else's module.

The broker skips probes on consumer sockets of topics that "look like" response topics. It
used to decide this by name alone: ``lab_tools`` was skipped as soon as any topic ``lab``
existed. So on a secure broker an authenticated user of another institute (or anyone on an
open broker) who created ``lab`` made Alice's module ``lab_tools`` (created by an admin, as
docs/security-model.md advises for such names) look dead: no ping, no api_info, no
``last_pong``, ``online: false`` in discovery. Real broker process, real websockets.
"""

from __future__ import annotations

import json
import time

from websockets.sync.client import connect

from dasf_jupyter.broker.process import BrokerProcess

from .test_token_logs import manage


def first_probe(ws, seconds: float) -> str | None:
    """The message type of the first broker probe on ``ws`` within ``seconds``, if any."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            text = ws.recv(timeout=left)
        except TimeoutError:
            return None
        kind = json.loads(text).get("properties", {}).get("messageType")
        if kind in ("ping", "api_info"):
            return kind
    return None


def test_a_stranger_cannot_hide_a_module_from_liveness_probes(tmp_path):
    with BrokerProcess(data_dir=tmp_path / "broker", secure=True) as broker:
        manage(broker, "dasf_user", "create", "alice")
        manage(broker, "dasf_user", "create", "mallory")
        alice = {"Authorization": "Token " + manage(broker, "dasf_token", "create", "alice")}
        mallory = {"Authorization": "Token " + manage(broker, "dasf_token", "create", "mallory")}
        manage(broker, "dasf_topic", "create", "lab_tools", "--owner", "alice")

        # the attack: mallory creates the topic 'lab' (her own, by subscribing to it)
        with connect(f"{broker.url}/lab/x", additional_headers=mallory, open_timeout=10):
            pass
        listed = manage(broker, "dasf_topic", "list").splitlines()
        assert any(line.split()[:3] == ["lab", "owner", "mallory"] for line in listed), listed

        with connect(
            f"{broker.url}/lab_tools/backend-module", additional_headers=alice, open_timeout=10
        ) as backend:
            assert first_probe(backend, 10) is not None, "alice's module was not probed"
