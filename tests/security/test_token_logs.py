"""Hole 5: no token, in any form, in any line a broker logs, at any log level.

A real broker runs at DEBUG level (uvicorn, websockets, Django and our own loggers); clients
use tokens by query string and by header, good ones, bad ones and a key sent without a scheme,
on websockets and on the discovery API; then every captured line is searched for the keys.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dasf_jupyter.broker.process import BrokerProcess
from tests.waiting import eventually

DEBUG_ENV = {"DASF_LOG_LEVEL": "DEBUG", "DASF_ACCESS_RECHECK_INTERVAL": "0.5"}


def manage(broker: BrokerProcess, *args: str) -> str:
    result = broker.manage(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def forms_of(key: str) -> list[str]:
    """The key, its URL-encoded form, its stored hash, and every 12-character piece of it."""
    forms = {key, quote(key, safe=""), hashlib.sha256(key.encode()).hexdigest()}
    forms.update(key[i : i + 12] for i in range(len(key) - 11))
    return sorted(forms)


def publish(ws, **properties) -> dict:
    ws.send(json.dumps({"payload": "", "properties": properties, "context": "1"}))
    return json.loads(ws.recv(timeout=10))


def refused(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        connect(url, additional_headers=headers, open_timeout=10).close()
    except InvalidStatus as exc:
        return exc.response.status_code
    pytest.fail(f"{url} was accepted")


def http_status(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as exc:
        with exc:  # closes the response it holds
            return exc.code


def test_no_token_appears_in_any_log_line_at_debug_level(tmp_path):
    broker = BrokerProcess(
        data_dir=tmp_path / "broker",
        secure=True,
        env=DEBUG_ENV,
        extra_args=("--log-level", "debug"),
    )
    with broker:
        manage(broker, "dasf_user", "create", "alice")
        key = manage(broker, "dasf_token", "create", "alice")
        other = manage(broker, "dasf_token", "create", "alice")
        manage(broker, "dasf_topic", "create", "mod", "--owner", "alice")
        unknown = "x" * 20 + key[20:]
        header = {"Authorization": f"Token {key}"}

        with connect(f"{broker.url}/mod/backend?token={quote(key)}", open_timeout=10):
            with connect(f"{broker.url}/mod", additional_headers=header) as producer:
                assert publish(producer, response_topic="mod_reply-1")["result"] == "ok"
            with connect(f"{broker.url}/mod?token={key}") as producer:
                assert publish(producer)["result"] == "ok"
        with connect(f"{broker.url}/status-ping?token={key}"):
            pass
        assert refused(f"{broker.url}/mod?token={unknown}") == 401
        assert refused(f"{broker.url}/mod", {"Authorization": f"Bearer {unknown}"}) == 401
        assert refused(f"{broker.url}/mod", {"Authorization": key}) == 401  # no scheme
        assert http_status(f"{broker.http_url}/api/topics/?token={key}") == 200
        assert http_status(f"{broker.http_url}/api/topics/", header) == 200
        assert http_status(f"{broker.http_url}/api/topics/?token={unknown}") == 401
        # a revocation while the socket is open is logged too (the closing is tested in
        # test_revocation.py; here only what it writes to the log matters)
        with connect(f"{broker.url}/mod?token={other}") as producer:
            manage(broker, "dasf_token", "revoke", other)
            eventually(
                lambda: producer.close_code is not None,
                timeout=5,
                message="the revoked socket to close",
            )
        time.sleep(0.5)  # the last access lines: checked for tokens that must not be there
    output = broker.log_path.read_text(errors="replace")
    assert "WebSocket /ws/mod" in output and "DEBUG" in output, "the broker logged nothing?"
    for secret in (key, other, unknown):
        for form in forms_of(secret):
            lines = [line for line in output.splitlines() if form in line]
            assert not lines, f"a token ({form!r}) is in the broker's output: {lines[:3]}"
    assert "token=[redacted]" in output  # the query strings were there, and were redacted
    assert "Logging error" not in output  # the redaction broke no formatter
