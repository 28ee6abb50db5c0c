"""Issue 13, "Also": a caller without a token on a secure broker is told it needs one.

Before, it read "topic '<topic>_<random>' does not exist and anonymous user may not create
topics". Both route families, a real secure broker process.
"""

from __future__ import annotations

import uuid

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dasf_jupyter.broker.process import BrokerProcess
from dasf_jupyter.client import connect as connect_client
from dasf_jupyter.errors import BrokerRefused

TOKEN_REQUIRED = "this broker requires a token (see `dasf-broker manage dasf_token create`)"
V2 = "v2/{kind}/persistent/public/default"


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory):
    with BrokerProcess(secure=True, data_dir=tmp_path_factory.mktemp("token")) as broker:
        for args in (
            ("dasf_user", "create", "alice"),
            ("dasf_topic", "create", "mod", "--owner", "alice"),
            ("dasf_topic", "create", "pub", "--public", "--owner", "alice"),
        ):
            assert broker.manage(*args).returncode == 0
        key = broker.manage("dasf_token", "create", "alice").stdout.strip()
        yield broker, key


def opened(url: str, key: str | None = None) -> tuple[int, str]:
    """(101, "") if the handshake succeeds, else the refusal's status and body."""
    headers = {"Authorization": f"Token {key}"} if key else None
    try:
        with connect(url, additional_headers=headers, open_timeout=10, close_timeout=2):
            return 101, ""
    except InvalidStatus as exc:
        return exc.response.status_code, exc.response.body.decode()


def routes(base: str, topic: str, consume: bool) -> list[str]:
    """The classic and the Pulsar-style URL of producing to / consuming ``topic``."""
    if consume:
        return [f"{base}/{topic}/client", f"{base}/{V2.format(kind='consumer')}/{topic}/client"]
    return [f"{base}/{topic}", f"{base}/{V2.format(kind='producer')}/{topic}"]


@pytest.mark.parametrize(
    ("topic", "consume", "action"),
    [
        ("mod_{rand}", True, "create topic"),  # a caller's reply topic of a private module
        ("mod", False, "produce to topic"),
        ("mod", True, "consume topic"),
        ("new-{rand}", False, "create topic"),
    ],
)
def test_caller_without_a_token_is_told_to_get_one(secure_broker, topic, consume, action):
    broker, _ = secure_broker
    name = topic.format(rand=uuid.uuid4().hex[:12])
    for url in routes(broker.url, name, consume):
        status, body = opened(url)
        assert status == 403, url
        assert body == (
            f"{TOKEN_REQUIRED}; anonymous callers may only call public topics "
            f"(refused: {action} {name!r})"
        )


def test_token_holders_and_public_callers_are_unaffected(secure_broker):
    broker, key = secure_broker
    reply = f"pub_{uuid.uuid4().hex[:12]}"
    for url in routes(broker.url, "pub", consume=False) + routes(broker.url, reply, True):
        assert opened(url) == (101, ""), url  # anonymous: public module and its replies
    for url in routes(broker.url, "mod", False) + routes(broker.url, "mod", True):
        assert opened(url, key) == (101, ""), url
    assert opened(f"{broker.url}/mod", "wrong") == (401, "unknown or revoked token")


def test_our_client_without_a_token_reads_the_reason(secure_broker):
    broker, _ = secure_broker
    with connect_client(broker.url, timeout=20) as conn, pytest.raises(BrokerRefused) as info:
        conn.call("mod", {"func_name": "add"}, timeout=20)
    assert f"HTTP 403: {TOKEN_REQUIRED}" in str(info.value)
