"""Sealing and opening requests and replies; each kind of damage has its own error."""

from __future__ import annotations

import base64
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dasf_jupyter.security import (
    ContextMismatch,
    MalformedSealed,
    ModuleKeyPair,
    SealError,
    TamperedCiphertext,
    WrongKey,
    open_reply,
    open_request,
    reply_aad,
    request_aad,
    seal_reply,
    seal_request,
)

KEYPAIR = ModuleKeyPair.generate()
AAD = request_aad("climate", "7")
PAYLOAD = b'{"func_name":"add","a":2,"b":3}'


def flip(text: str, position: int) -> str:
    data = bytearray(base64.b64decode(text))
    data[position] ^= 0x01
    return base64.b64encode(bytes(data)).decode()


def test_request_round_trip_returns_payload_and_same_reply_key():
    sealed, reply_key = seal_request(PAYLOAD, KEYPAIR.public_key, AAD)
    assert b"func_name" not in base64.b64decode(sealed)
    payload, key, timestamp, nonce = open_request(sealed, KEYPAIR, AAD)
    assert payload == PAYLOAD and key == reply_key and len(key) == 32
    assert abs(timestamp - time.time()) < 60 and len(bytes.fromhex(nonce)) == 16


def test_freshness_is_sealed_and_the_first_layout_is_refused():
    sealed, _ = seal_request(PAYLOAD, KEYPAIR.public_key, AAD, timestamp=123, nonce=b"n" * 16)
    opened = open_request(sealed, KEYPAIR, AAD)
    assert (opened.timestamp, opened.nonce) == (123, (b"n" * 16).hex())
    first_layout = base64.b64encode(b"DE2Q\x01" + base64.b64decode(sealed)[5:]).decode()
    with pytest.raises(MalformedSealed, match="without a timestamp and nonce"):
        open_request(first_layout, KEYPAIR, AAD)


def test_two_seals_of_the_same_payload_differ():
    assert (
        seal_request(PAYLOAD, KEYPAIR.public_key, AAD)[0]
        != (seal_request(PAYLOAD, KEYPAIR.public_key, AAD)[0])
    )


def test_reply_round_trip():
    aad = reply_aad("climate", "7", "response", "success")
    key = bytes(32)
    assert open_reply(seal_reply(b"5", key, aad), key, aad) == b"5"


def test_tampered_request_ciphertext_is_refused():
    sealed, _ = seal_request(PAYLOAD, KEYPAIR.public_key, AAD)
    with pytest.raises(TamperedCiphertext, match="modified"):
        open_request(flip(sealed, -1), KEYPAIR, AAD)


def test_request_for_another_key_is_refused():
    sealed, _ = seal_request(PAYLOAD, ModuleKeyPair.generate().public_key, AAD)
    with pytest.raises(WrongKey, match=re.escape(KEYPAIR.fingerprint)):
        open_request(sealed, KEYPAIR, AAD)


def test_request_for_another_topic_or_context_is_refused():
    sealed, _ = seal_request(PAYLOAD, KEYPAIR.public_key, AAD)
    with pytest.raises(ContextMismatch, match="topic 'climate'"):
        open_request(sealed, KEYPAIR, request_aad("other", "7"))
    with pytest.raises(ContextMismatch, match="requestContext '7'"):
        open_request(sealed, KEYPAIR, request_aad("climate", "8"))


def test_rewritten_clear_aad_still_fails_decryption():
    # an attacker who edits the clear copy of the aad gets past the comparison, not the AEAD
    other = request_aad("climate", "8")
    sealed, _ = seal_request(PAYLOAD, KEYPAIR.public_key, AAD)
    data = base64.b64decode(sealed)
    assert len(other) == len(AAD)
    forged = data.replace(AAD, other)
    with pytest.raises(TamperedCiphertext):
        open_request(base64.b64encode(forged).decode(), KEYPAIR, other)


def test_reply_with_swapped_status_or_wrong_key_is_refused():
    key = bytes(32)
    sealed = seal_reply(b"5", key, reply_aad("climate", "7", "response", "success"))
    with pytest.raises(ContextMismatch, match="extra 'success'"):
        open_reply(sealed, key, reply_aad("climate", "7", "response", "error"))
    with pytest.raises(TamperedCiphertext):
        open_reply(sealed, b"\x01" * 32, reply_aad("climate", "7", "response", "success"))
    with pytest.raises(TamperedCiphertext):
        open_reply(flip(sealed, -3), key, reply_aad("climate", "7", "response", "success"))


def test_plain_payload_is_not_mistaken_for_sealed():
    with pytest.raises(MalformedSealed, match="not a sealed request"):
        open_request(base64.b64encode(PAYLOAD).decode(), KEYPAIR, AAD)
    with pytest.raises(MalformedSealed, match="base64"):
        open_reply("***", bytes(32), AAD)


def test_sealed_request_cannot_be_opened_as_reply():
    sealed, key = seal_request(PAYLOAD, KEYPAIR.public_key, AAD)
    with pytest.raises(MalformedSealed):
        open_reply(sealed, key, AAD)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)), st.binary(max_size=64))
def test_garbage_into_the_openers_raises_only_seal_errors(garbage, prefix_tail):
    candidates = [garbage]
    if isinstance(garbage, bytes):
        # also feed inputs that get past the magic, to reach the deeper parsers
        for magic in (b"DE2Q\x01", b"DE2R\x01"):
            candidates.append(base64.b64encode(magic + prefix_tail + garbage).decode())
        candidates.append(base64.b64encode(garbage).decode())
    for candidate in candidates:
        with pytest.raises(SealError):
            open_request(candidate, KEYPAIR, AAD)
        with pytest.raises(SealError):
            open_reply(candidate, bytes(32), AAD)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=255))
def test_any_single_byte_change_is_detected(position, mask):
    sealed, _ = seal_request(PAYLOAD, KEYPAIR.public_key, AAD)
    data = bytearray(base64.b64decode(sealed))
    data[position % len(data)] ^= mask
    with pytest.raises(SealError):
        open_request(base64.b64encode(bytes(data)).decode(), KEYPAIR, AAD)
