"""A forged broker: a real websocket server that plays an untrusted broker to our client.

It answers ``api_info`` with whatever the attacker chooses (a real module's api_info without
its ``x-dasf-security`` block, or with another key) and echoes every request back, so a test
can see whether the client handed it plaintext.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dasf_jupyter.protocol import Envelope
from dasf_jupyter.security import API_INFO_KEY, ModuleKeyPair
from tests.client.scripted_broker import ScriptedBroker
from tests.conftest import free_port


def stripped(api_info: dict[str, Any]) -> dict[str, Any]:
    """``api_info`` without the security block: what a downgrading broker forwards."""
    return {k: v for k, v in api_info.items() if k != API_INFO_KEY}


def rekeyed(api_info: dict[str, Any], keypair: ModuleKeyPair) -> dict[str, Any]:
    """``api_info`` announcing the attacker's key instead of the module's."""
    block = dict(api_info[API_INFO_KEY])
    block.update(public_key=keypair.public_key, fingerprint=keypair.fingerprint)
    return {**api_info, API_INFO_KEY: block}


class ForgedModule:
    """The backend behind the forged broker: fake api_info, echoes requests in the clear."""

    def __init__(self, api_info: dict[str, Any]) -> None:
        self.api_info = api_info
        self.requests: list[Envelope] = []

    def __call__(self, envelope: Envelope) -> list[Envelope]:
        props = envelope.properties
        base = {"requestContext": props["requestContext"], "messageType": "response"}
        if props.get("messageType") == "api_info":
            return [Envelope("", {**base, "api_info": json.dumps(self.api_info)})]
        self.requests.append(envelope)
        return [Envelope(envelope.as_text().payload, {**base, "status": "success"})]

    def plaintext_seen(self, secret: str) -> bool:
        """Whether any request the forged module received shows ``secret`` in clear."""
        for request in self.requests:
            try:
                if secret.encode() in base64.b64decode(request.as_text().payload):
                    return True
            except ValueError:
                continue
        return False


@contextmanager
def forged_broker(api_info: dict[str, Any]) -> Iterator[tuple[ScriptedBroker, ForgedModule]]:
    """A forged broker on a free port whose module answers ``api_info``."""
    module = ForgedModule(api_info)
    with ScriptedBroker(free_port()) as broker:
        broker.backend = module
        yield broker, module
