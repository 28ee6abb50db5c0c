"""Sealing payloads end to end: requests to the module's key, replies to a per-request key.

Construction (standard primitives from ``cryptography``, nothing home-made):

* request: HPKE (RFC 9180) base mode, suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
  ChaCha20-Poly1305, with the associated data passed as HPKE ``info`` (it enters the key
  schedule, so a different topic/context/type makes decryption fail). The plaintext is a
  fresh 32-byte reply key, the sealing time (u64 seconds since the epoch), a random 16-byte
  nonce, then the payload: the module refuses stale and already-seen requests with them,
  whether or not the request is signed (a broker cannot change them, they are sealed).
* reply (response, progress, log): ChaCha20-Poly1305 under that reply key with a random
  96-bit nonce and the reply's associated data.

Binary layout (then base64, so a sealed payload is an ordinary DASF payload)::

    request: b"DE2Q" 0x02 | recipient key id (32) | u16 aad length | aad | HPKE enc+ciphertext
             (plaintext: reply key (32) | u64 timestamp | nonce (16) | payload)
    reply:   b"DE2R" 0x01 | u16 aad length | aad | nonce (12) | ciphertext

The aad travels in clear (it only repeats routing properties) so the receiver can tell
*which* binding differs (:class:`ContextMismatch`) before the AEAD rejects it anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
import time
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from .errors import ContextMismatch, MalformedSealed, TamperedCiphertext, WrongKey
from .keys import ModuleKeyPair, decode_public_key

#: value of the ``dasf_e2e`` property and the api_info algorithm name
E2E_VERSION = "v1"
E2E_ALGORITHM = "hpke-x25519-hkdfsha256-chacha20poly1305-v1"

_REQUEST_MAGIC = b"DE2Q\x02"
#: requests of the first layout, without timestamp and nonce (refused: replayable)
_REQUEST_MAGIC_V1 = b"DE2Q\x01"
_REPLY_MAGIC = b"DE2R\x01"
_KEY_ID_SIZE = 32
_REPLY_KEY_SIZE = 32
_NONCE_SIZE = 12
_FRESHNESS = struct.Struct(">Q16s")  # timestamp, request nonce
_HPKE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_AAD_FIELDS = ("version", "kind", "topic", "requestContext", "messageType", "extra")


def request_aad(
    topic: str, request_context: object, message_type: str = "request", signer: str = ""
) -> bytes:
    """Associated data of a request; ``signer`` (fingerprint) ties it to the signature."""
    return _aad("request", topic, request_context, message_type, signer)


def reply_aad(topic: str, request_context: object, message_type: str, status: str = "") -> bytes:
    """Associated data of a reply; ``status`` is bound so success/error cannot be swapped."""
    return _aad("reply", topic, request_context, message_type, status)


def _aad(kind: str, topic: str, context: object, message_type: str, extra: str) -> bytes:
    fields = ["dasf-e2e-" + E2E_VERSION, kind, topic, str(context), message_type, extra]
    return json.dumps(fields, separators=(",", ":")).encode("utf-8")


def _key_id(raw_public_key: bytes) -> bytes:
    return hashlib.sha256(raw_public_key).digest()


def _to_text(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _from_text(sealed: str | bytes, magic: bytes) -> memoryview:
    try:
        data = base64.b64decode(sealed, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise MalformedSealed("sealed payload is not valid base64") from None
    if not data.startswith(magic):
        kind = "request" if magic == _REQUEST_MAGIC else "reply"
        raise MalformedSealed(f"payload is not a sealed {kind} of version {E2E_VERSION}")
    # a view: slicing large payloads must not copy them again
    return memoryview(data)[len(magic) :]


def _pack_aad(aad: bytes) -> bytes:
    if len(aad) > 0xFFFF:
        raise ValueError("associated data longer than 65535 bytes")
    return struct.pack(">H", len(aad)) + aad


def _unpack_aad(data: memoryview) -> tuple[bytes, memoryview]:
    if len(data) < 2:
        raise MalformedSealed("sealed payload is truncated")
    (size,) = struct.unpack(">H", data[:2])
    if len(data) < 2 + size:
        raise MalformedSealed("sealed payload is truncated")
    return bytes(data[2 : 2 + size]), data[2 + size :]


def _check_aad(found: bytes, expected: bytes) -> None:
    if found == expected:
        return
    try:
        got, want = json.loads(found), json.loads(expected)
        differing = [
            f"{name} {g!r} (expected {w!r})"
            for name, g, w in zip(_AAD_FIELDS, got, want, strict=False)
            if g != w
        ]
    except (ValueError, TypeError):
        differing = []
    detail = ", ".join(differing) if differing else "different associated data"
    raise ContextMismatch(f"sealed payload was bound to another context: {detail}")


class OpenedRequest(NamedTuple):
    """A sealed request, opened: its payload, reply key and sealed freshness data."""

    payload: bytes
    reply_key: bytes
    #: when the client sealed it (seconds since the epoch)
    timestamp: int
    #: 16 random bytes, unique per request (hex)
    nonce: str


def seal_request(
    payload: bytes,
    module_pubkey: str | bytes,
    aad: bytes,
    *,
    timestamp: int | None = None,
    nonce: bytes | None = None,
) -> tuple[str, bytes]:
    """Seal ``payload`` to the module's public key; return (base64 text, reply key).

    A timestamp (now) and a random nonce are sealed with it (both settable for tests).
    """
    raw = module_pubkey if isinstance(module_pubkey, bytes) else decode_public_key(module_pubkey)
    public = x25519.X25519PublicKey.from_public_bytes(raw)
    reply_key = ChaCha20Poly1305.generate_key()
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    freshness = _FRESHNESS.pack(stamp, os.urandom(16) if nonce is None else nonce)
    body = _HPKE.encrypt(reply_key + freshness + payload, public, info=aad)
    return _to_text(_REQUEST_MAGIC + _key_id(raw) + _pack_aad(aad) + body), reply_key


def open_request(sealed: str | bytes, keypair: ModuleKeyPair, aad: bytes) -> OpenedRequest:
    """Open a sealed request with the module's key (freshness is checked by the caller)."""
    if _is_first_layout(sealed):
        raise MalformedSealed(
            "the request was sealed without a timestamp and nonce (an older dasf-jupyter "
            "client), so a replay could not be told apart; update the client"
        )
    data = _from_text(sealed, _REQUEST_MAGIC)
    key_id, rest = data[:_KEY_ID_SIZE], data[_KEY_ID_SIZE:]
    if len(key_id) < _KEY_ID_SIZE:
        raise MalformedSealed("sealed payload is truncated")
    if bytes(key_id) != _key_id(keypair.public_bytes):
        raise WrongKey(
            "the request was sealed to another key than this module's "
            f"({keypair.fingerprint}); the client pinned an old or foreign module key"
        )
    found_aad, body = _unpack_aad(rest)
    _check_aad(found_aad, aad)
    try:
        plain = _HPKE.decrypt(body, keypair.private_key, info=aad)
    except (InvalidTag, ValueError):
        raise TamperedCiphertext("the sealed request does not decrypt: it was modified") from None
    head = _REPLY_KEY_SIZE + _FRESHNESS.size
    if len(plain) < head:
        raise MalformedSealed("sealed request lacks its reply key, timestamp or nonce")
    timestamp, nonce = _FRESHNESS.unpack_from(plain, _REPLY_KEY_SIZE)
    return OpenedRequest(plain[head:], plain[:_REPLY_KEY_SIZE], timestamp, nonce.hex())


def _is_first_layout(sealed: str | bytes) -> bool:
    head = sealed[:8]
    try:
        return base64.b64decode(head)[: len(_REQUEST_MAGIC_V1)] == _REQUEST_MAGIC_V1
    except (binascii.Error, ValueError, TypeError):
        return False


def seal_reply(payload: bytes, reply_key: bytes, aad: bytes) -> str:
    """Seal a response/progress/log payload under the request's reply key (base64 text)."""
    nonce = os.urandom(_NONCE_SIZE)
    body = ChaCha20Poly1305(reply_key).encrypt(nonce, payload, aad)
    return _to_text(_REPLY_MAGIC + _pack_aad(aad) + nonce + body)


def open_reply(sealed: str | bytes, reply_key: bytes, aad: bytes) -> bytes:
    """Open a sealed reply with the reply key of its request."""
    data = _from_text(sealed, _REPLY_MAGIC)
    found_aad, rest = _unpack_aad(data)
    _check_aad(found_aad, aad)
    nonce, body = rest[:_NONCE_SIZE], rest[_NONCE_SIZE:]
    if len(nonce) < _NONCE_SIZE:
        raise MalformedSealed("sealed reply is truncated")
    try:
        return ChaCha20Poly1305(reply_key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise TamperedCiphertext("the sealed reply does not decrypt: it was modified") from None


__all__ = [
    "E2E_ALGORITHM",
    "E2E_VERSION",
    "OpenedRequest",
    "open_reply",
    "open_request",
    "reply_aad",
    "request_aad",
    "seal_reply",
    "seal_request",
]
