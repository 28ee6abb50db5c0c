"""Request signatures with Ed25519: who sent a request, when, and was it seen before.

The signature covers ``["dasf-sig-v1", topic, requestContext, timestamp, nonce,
sha256(payload text)]`` as compact JSON; the payload text is the base64 payload as it travels
(the ciphertext when the request is sealed, so the signature leaks nothing about the
plaintext). All properties are strings because Pulsar turns property values into strings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from .allowlist import AllowList
from .caller import Caller
from .errors import BadSignature, ReplayedNonce, SignatureMissing, StaleTimestamp
from .keys import IdentityKey, decode_public_key, fingerprint, verify_ed25519

if TYPE_CHECKING:  # replay.py builds on this module
    from .replay import ReplayStore


class SigProp:
    """Property keys of a signed request (ignored by reference peers)."""

    VERSION = "dasf_sig_v"
    KEY = "dasf_sig_key"
    TIMESTAMP = "dasf_sig_ts"
    NONCE = "dasf_sig_nonce"
    SIGNATURE = "dasf_sig"
    ALL = (VERSION, KEY, TIMESTAMP, NONCE, SIGNATURE)


SIGNATURE_VERSION = "1"
#: default freshness window in seconds (both into the past and the future)
DEFAULT_WINDOW = 300


def payload_digest(payload_text: str | bytes) -> bytes:
    """SHA-256 of the payload text exactly as it travels."""
    data = payload_text.encode("ascii") if isinstance(payload_text, str) else payload_text
    return hashlib.sha256(data).digest()


def _signed_message(
    topic: str, request_context: object, timestamp: int, nonce: str, digest: bytes
) -> bytes:
    fields = ["dasf-sig-v1", topic, str(request_context), str(timestamp), nonce, digest.hex()]
    return json.dumps(fields, separators=(",", ":")).encode("utf-8")


def new_nonce() -> str:
    return base64.urlsafe_b64encode(os.urandom(18)).decode("ascii")


def sign_request(
    identity: IdentityKey,
    topic: str,
    request_context: object,
    payload_digest: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The properties that authenticate one request."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    nonce = new_nonce() if nonce is None else nonce
    message = _signed_message(topic, request_context, timestamp, nonce, payload_digest)
    return {
        SigProp.VERSION: SIGNATURE_VERSION,
        SigProp.KEY: identity.public_key,
        SigProp.TIMESTAMP: str(timestamp),
        SigProp.NONCE: nonce,
        SigProp.SIGNATURE: base64.b64encode(identity.sign(message)).decode("ascii"),
    }


def is_signed(properties: dict[str, Any]) -> bool:
    return SigProp.SIGNATURE in properties or SigProp.KEY in properties


def signer_fingerprint(properties: dict[str, Any]) -> str:
    """Fingerprint of the claimed signing key ('' if absent or malformed); not verified."""
    try:
        return fingerprint(decode_public_key(str(properties[SigProp.KEY])))
    except (KeyError, ValueError):
        return ""


class ReplayCache:
    """Nonces seen within the freshness window, bounded in time and in number.

    Entries older than the window are dropped (their timestamp is refused anyway). When
    ``max_entries`` is reached the oldest entry is evicted, so a flood of valid requests
    from allowed users can push a nonce out early; size it above the expected request rate
    times the window.
    """

    def __init__(self, window: float = DEFAULT_WINDOW, max_entries: int = 100_000) -> None:
        self.window = window
        self.max_entries = max_entries
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def entries(self, now: float) -> list[tuple[tuple[str, str], float]]:
        """The (namespace, nonce) → timestamp entries still inside the window."""
        with self._lock:
            return [(k, ts) for k, ts in self._seen.items() if ts >= now - self.window]

    def add(self, signer: str, nonce: str, timestamp: float, now: float) -> None:
        """Record a nonce; raise :class:`ReplayedNonce` if it was already recorded."""
        key = (signer, nonce)
        with self._lock:
            while self._seen:
                oldest_key, oldest_ts = next(iter(self._seen.items()))
                if oldest_ts >= now - self.window and len(self._seen) < self.max_entries:
                    break
                del self._seen[oldest_key]
            if key in self._seen:
                raise ReplayedNonce(f"request nonce {nonce!r} was already used (replay)")
            self._seen[key] = timestamp


def _parse_signature(properties: dict[str, Any]) -> tuple[bytes, bytes, int, str]:
    if not is_signed(properties):
        raise SignatureMissing(
            "this module requires signed requests; create an identity with `dasf keygen` "
            "and connect with it"
        )
    if str(properties.get(SigProp.VERSION, "")) != SIGNATURE_VERSION:
        raise BadSignature(f"unsupported signature version {properties.get(SigProp.VERSION)!r}")
    try:
        key = decode_public_key(str(properties[SigProp.KEY]))
        signature = base64.b64decode(str(properties[SigProp.SIGNATURE]), validate=True)
        timestamp = int(str(properties[SigProp.TIMESTAMP]))
        nonce = str(properties[SigProp.NONCE])
    except (KeyError, ValueError, binascii.Error):
        raise BadSignature(
            "the request signature properties are incomplete or malformed"
        ) from None
    if not nonce or len(nonce) > 128:
        raise BadSignature("the request nonce is empty or too long")
    return key, signature, timestamp, nonce


def verify_request(
    properties: dict[str, Any],
    payload: str | bytes,
    topic: str,
    allow_list: AllowList | None,
    *,
    now: float | None = None,
    window: float = DEFAULT_WINDOW,
    replay_cache: ReplayStore | None = None,
    function: str | None = None,
) -> Caller:
    """Check signature, freshness, allow list (and ``function``), then record the nonce.

    Without an allow list any valid signature is accepted. Raises one :class:`AuthError`
    subclass per reason.
    """
    key, signature, timestamp, nonce = _parse_signature(properties)
    context = properties.get("requestContext", "")
    message = _signed_message(topic, context, timestamp, nonce, payload_digest(payload))
    if not verify_ed25519(key, signature, message):
        raise BadSignature("the request signature does not verify")
    now = time.time() if now is None else now
    if timestamp < now - window:
        raise StaleTimestamp(f"the request was signed {int(now - timestamp)} s ago (expired)")
    if timestamp > now + window:
        raise StaleTimestamp(
            f"the request is signed {int(timestamp - now)} s in the future (check the clock)"
        )
    fp = fingerprint(key)
    name = None
    if allow_list is not None:
        name = allow_list.check(fp, function).name
    if replay_cache is not None:
        replay_cache.add(fp, nonce, timestamp, now)
    return Caller(fingerprint=fp, name=name, public_key=base64.b64encode(key).decode("ascii"))
