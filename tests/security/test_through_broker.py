"""Sealed and signed calls through real brokers: no plaintext leaks, refusals are specific."""

from __future__ import annotations

import base64
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dasf_jupyter.errors import RemoteError
from dasf_jupyter.protocol import decode_text_payload
from dasf_jupyter.security import (
    AllowList,
    ClientSecurity,
    IdentityKey,
    KeyChanged,
    KnownModules,
    ModuleKeyPair,
    SecurityPolicy,
)
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket

from .peers import FUNCTIONS, SecureRequester, SecureResponder, suffix

ALICE = IdentityKey.generate()
B64_TOKEN = re.compile(rb"[A-Za-z0-9+/=]{12,}")


def leaks(blob: bytes, secret: bytes) -> bool:
    """True if ``secret`` appears in ``blob`` directly or inside any base64 token."""
    if secret in blob:
        return True
    for token in B64_TOKEN.findall(blob):
        for start in range(4):  # tokens may be glued to neighbouring base64 text
            chunk = token[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                if secret in base64.b64decode(chunk):
                    return True
            except ValueError:
                continue
    return False


class Spy:
    """An extra consumer on a topic, as a curious broker operator would attach."""

    def __init__(self, broker_url: str, topic: str) -> None:
        url = BrokerUrl.parse(broker_url)
        self.socket = ConsumerSocket(url.consumer(topic, "spy-" + suffix()))

    def drain(self, quiet: float = 0.5) -> list[bytes]:
        frames = []
        while True:
            try:
                envelope = self.socket.receive(timeout=quiet)
            except TimeoutError:
                self.socket.close()
                return frames
            frames.append(repr(envelope).encode())


@pytest.fixture
def topic() -> str:
    return "sec-" + uuid.uuid4().hex[:10]


@pytest.fixture
def make_module(broker_url) -> Iterator:
    started: list[SecureResponder] = []

    def make(topic: str, policy: SecurityPolicy, url: str = broker_url, **kwargs):
        responder = SecureResponder(url, topic, policy, FUNCTIONS, **kwargs)
        started.append(responder)
        return responder

    yield make
    for responder in started:
        responder.stop()


@pytest.fixture
def make_client(broker_url, tmp_path) -> Iterator:
    started: list[SecureRequester] = []

    def make(topic: str, url: str = broker_url, **kwargs):
        kwargs.setdefault("known_modules", KnownModules(tmp_path / "known_modules"))
        requester = SecureRequester(url, topic, ClientSecurity(**kwargs))
        started.append(requester)
        return requester

    yield make
    for requester in started:
        requester.close()


def spied_call(broker_url, topic, make_module, make_client, mode, secret) -> list[bytes]:
    make_module(topic, SecurityPolicy(mode, ModuleKeyPair.generate()), fragment_size=256)
    client = make_client(topic, identity=ALICE)
    request_spy = Spy(broker_url, topic)
    reply_spy = Spy(broker_url, client.response_topic)
    # long enough to be fragmented on the way back
    assert client.call("echo", text=secret.decode() * 20) == secret.decode() * 20
    return request_spy.drain() + reply_spy.drain()


def test_spy_on_our_broker_sees_no_plaintext(
    broker_url, broker_process, topic, make_module, make_client
):
    secret = b"TOPSECRET-" + uuid.uuid4().hex.encode()
    frames = spied_call(broker_url, topic, make_module, make_client, "encrypted-required", secret)
    assert len(frames) >= 4  # api_info, request, progress, fragments of the response
    assert not any(leaks(frame, secret) for frame in frames)
    for path in Path(broker_process.data_dir).rglob("*"):
        if path.is_file():
            assert not leaks(path.read_bytes(), secret), path


def test_spy_does_see_plaintext_of_plain_calls(broker_url, topic, make_module, make_client):
    # the control experiment: the same spy finds the secret when nothing is sealed
    secret = b"VISIBLE-" + uuid.uuid4().hex.encode()
    frames = spied_call(broker_url, topic, make_module, make_client, "encrypted-optional", secret)
    assert not any(leaks(frame, secret) for frame in frames)
    make_module(topic + "p", SecurityPolicy())
    client = make_client(topic + "p")
    spy = Spy(broker_url, topic + "p")
    client.call("echo", text=secret.decode())
    assert any(leaks(frame, secret) for frame in spy.drain())


@pytest.fixture(scope="module")
def storing_ref_broker():
    from tests.refbroker.fixtures import _require_reference_stack
    from tests.refbroker.process import ReferenceBroker

    _require_reference_stack()
    with ReferenceBroker(store_messages="store") as broker:
        yield broker


def database_text(broker) -> bytes:
    """Every value of every table of the reference broker's SQLite database."""
    db = sqlite3.connect(Path(broker.state_dir) / "refbroker.sqlite3")
    try:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        rows = [repr(db.execute(f'select * from "{t}"').fetchall()) for t in tables]
    finally:
        db.close()
    return "\n".join(rows).encode()


def test_dasf_broker_django_stores_only_ciphertext(
    storing_ref_broker, topic, make_module, make_client
):
    url = storing_ref_broker.url
    secret = b"STORED-" + uuid.uuid4().hex.encode()
    make_module(topic, SecurityPolicy("encrypted-required", ModuleKeyPair.generate()), url=url)
    client = make_client(topic, url=url, identity=ALICE)
    assert client.call("echo", text=secret.decode()) == secret.decode()
    plain_topic = topic + "p"
    make_module(plain_topic, SecurityPolicy(), url=url)
    plain_secret = b"PLAINSTORED-" + uuid.uuid4().hex.encode()
    make_client(plain_topic, url=url).call("echo", text=plain_secret.decode())
    stored = database_text(storing_ref_broker)
    assert leaks(stored, plain_secret), "control: the database should hold the plain call"
    assert not leaks(stored, secret)
    assert not leaks(storing_ref_broker.log_path.read_bytes(), secret)


def refusal(client: SecureRequester, func: str = "add", **kwargs) -> RemoteError:
    with pytest.raises(RemoteError) as info:
        client.call(func, **kwargs) if kwargs else client.call(func, a=1, b=2)
    return info.value


def test_each_refusal_is_specific_and_the_module_keeps_serving(topic, make_module, make_client):
    bob = IdentityKey.generate()
    allow = AllowList.from_lines(
        [f"{ALICE.public_line()} alice", f"{bob.public_line()} bob functions=add"]
    )
    keypair = ModuleKeyPair.generate()
    policy = SecurityPolicy("encrypted-required", keypair, allow, require_auth=True)
    module = make_module(topic, policy)
    alice = make_client(topic, identity=ALICE)
    assert alice.call("whoami") == "hello alice"
    sent = alice.last_sent

    replay = alice.resend(sent.payload, sent.properties)
    assert replay.properties["dasf_error_type"] == "ReplayedNonce"
    assert "replay" in decode_text_payload(replay.payload)

    data = bytearray(base64.b64decode(sent.payload))
    data[-1] ^= 1
    tampered = alice.resend(base64.b64encode(bytes(data)).decode(), sent.properties)
    assert tampered.properties["dasf_error_type"] == "TamperedCiphertext"

    err = refusal(make_client(topic, identity=IdentityKey.generate()))
    assert err.exc_type == "UnknownUser"
    err = refusal(make_client(topic, identity=bob), "whoami")
    assert err.exc_type == "FunctionNotAllowed" and "bob" in err.message
    assert make_client(topic, identity=bob).call("add", a=1, b=2) == 3

    plain = alice.resend(
        base64.b64encode(b'{"func_name":"add","a":1,"b":2}').decode(),
        {
            "messageType": "request",
            "requestContext": "100",
            "response_topic": alice.response_topic,
        },
    )
    assert plain.properties["dasf_error_type"] == "EncryptionRequired"
    assert alice.call("add", a=2, b=3) == 5
    assert module.errors == [
        "ReplayedNonce",
        "TamperedCiphertext",
        "UnknownUser",
        "FunctionNotAllowed",
        "EncryptionRequired",
    ]


def test_stale_and_unsigned_copies_are_refused(topic, make_module, make_client):
    keypair = ModuleKeyPair.generate()
    skewed = SecurityPolicy("encrypted-optional", keypair, clock=lambda: time.time() + 3600)
    make_module(topic, skewed)
    alice = make_client(topic, identity=ALICE)
    err = refusal(alice)
    assert err.exc_type == "StaleTimestamp" and "expired" in err.message

    make_module(topic + "t", SecurityPolicy("encrypted-optional", keypair))
    alice = make_client(topic + "t", identity=ALICE)
    alice.call("add", a=1, b=1)
    sent = alice.last_sent
    # stripping alice's signature to pass the request off as anonymous breaks the binding
    props = {k: v for k, v in sent.properties.items() if not k.startswith("dasf_sig")}
    reply = alice.resend(sent.payload, props)
    assert reply.properties["dasf_error_type"] == "ContextMismatch"
    assert "extra" in decode_text_payload(reply.payload)
    assert alice.call("add", a=2, b=2) == 4


def test_restarted_module_with_new_key_is_refused_until_accepted(
    topic, make_module, make_client, tmp_path
):
    first = make_module(topic, SecurityPolicy("encrypted-optional", ModuleKeyPair.generate()))
    client = make_client(topic)
    assert client.call("add", a=1, b=2) == 3
    first.stop()
    new_key = ModuleKeyPair.generate()
    make_module(topic, SecurityPolicy("encrypted-optional", new_key))
    with pytest.raises(KeyChanged, match="changed"):
        client.call("add", a=1, b=2)
    KnownModules(tmp_path / "known_modules").accept(topic, new_key.fingerprint)
    assert client.call("add", a=1, b=2) == 3
    trusted = make_client(topic, pinning=False, trust={topic: new_key.fingerprint})
    assert trusted.call("add", a=2, b=2) == 4


def test_demessaging_client_calls_plain_and_optional_modules(broker_url, topic, make_module):
    from tests.refbroker.ref_client import RefCallError, ref_call

    make_module(topic, SecurityPolicy("encrypted-optional", ModuleKeyPair.generate()))
    assert ref_call(broker_url, topic, "add", a=2, b=3, timeout=60) == 5
    make_module(topic + "p", SecurityPolicy())
    assert ref_call(broker_url, topic + "p", "add", a=2, b=3, timeout=60) == 5
    make_module(topic + "r", SecurityPolicy("encrypted-required", ModuleKeyPair.generate()))
    with pytest.raises(RefCallError, match="only encrypted"):
        ref_call(broker_url, topic + "r", "add", a=2, b=3, timeout=60)
