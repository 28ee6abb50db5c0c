"""Units of the origin policy, the Jupyter origins and the log redaction (no processes)."""

from __future__ import annotations

import logging

import pytest

from dasf_jupyter.broker.origins import OriginPolicy, normalize_origin, parse_origins
from dasf_jupyter.broker.redaction import RedactTokens, redact
from dasf_jupyter.jupyter.server_origin import jupyter_origins, origins_from_url


@pytest.mark.parametrize(
    ("origin", "normal"),
    [
        ("HTTP://Lab.Example:80", "http://lab.example"),
        ("https://lab.example:443", "https://lab.example"),
        ("http://127.0.0.1:8888", "http://127.0.0.1:8888"),
        ("http://[::1]:8888", "http://[::1]:8888"),
        ("null", "null"),
        ("file://", None),
        ("lab.example:88", None),
        ("http://x:99999", None),
    ],
)
def test_origins_are_normalized(origin, normal):
    assert normalize_origin(origin) == normal


def test_a_bad_origin_list_names_the_bad_entry():
    assert parse_origins(" http://a:1/, *,") == ("http://a:1", "*")
    with pytest.raises(ValueError, match="not an origin: 'lab:88'"):
        parse_origins("http://ok:1,lab:88")


def _headers(origin: str | None, host: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return headers


def test_policy_same_origin_listed_origin_and_host_check():
    policy = OriginPolicy(("http://127.0.0.1:8888",), ["127.0.0.1", "localhost"])
    assert policy.refusal(_headers(None, "anything:1")) is None
    assert policy.refusal(_headers("http://127.0.0.1:8765", "127.0.0.1:8765")) is None
    assert policy.refusal(_headers("http://127.0.0.1:8888", "127.0.0.1:8765")) is None
    assert "not an allowed origin" in policy.refusal(
        _headers("http://127.0.0.1:9", "127.0.0.1:8765")
    )
    # same host, other scheme's default port: not the same origin
    assert policy.refusal(_headers("https://127.0.0.1", "127.0.0.1:80")) is not None
    assert "allowed hosts" in policy.refusal(_headers("http://evil.example:1", "evil.example:1"))
    assert "allowed hosts" in policy.refusal(_headers("http://127.0.0.1:1", ""))


def test_jupyter_origins_cover_its_local_names():
    assert jupyter_origins("http", "127.0.0.1", 8888) == [
        "http://127.0.0.1:8888",
        "http://localhost:8888",
    ]
    assert jupyter_origins("https", "0.0.0.0", 443) == [
        "https://localhost:443",
        "https://127.0.0.1:443",
    ]
    assert origins_from_url("http://lab.example:8888/user/x/") == ["http://lab.example:8888"]
    assert origins_from_url("") == []


@pytest.mark.parametrize(
    "text",
    [
        "GET /ws/t?a=1&token=SECRETSECRET1234&b=2",
        "token%3DSECRETSECRET1234",
        "< authorization: SECRETSECRET1234",
        "Authorization: Token SECRETSECRET1234",
        "[(b'authorization', b'Bearer SECRETSECRET1234')]",
    ],
)
def test_redaction_removes_every_form(text):
    assert "SECRETSECRET1234" not in redact(text)
    assert "[redacted]" in redact(text)


def test_redaction_filter_keeps_access_log_arguments_unpackable():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/api/topics/?token=SECRETSECRET1234", "1.1", 200),
        None,
    )
    assert RedactTokens().filter(record)
    assert isinstance(record.args, tuple) and len(record.args) == 5  # uvicorn unpacks them
    assert "SECRETSECRET1234" not in record.getMessage()
    joined = logging.LogRecord(
        "websockets",
        logging.DEBUG,
        __file__,
        1,
        "< %s: %s",
        ("authorization", "SECRETSECRET1234"),
        None,
    )
    RedactTokens().filter(joined)
    assert joined.getMessage() == "< authorization: [redacted]"


def test_redaction_is_idempotent():
    once = redact("GET /x?token=SECRETSECRET1234 HTTP/1.1 Authorization: Token SECRETSECRET1234")
    assert redact(once) == once
