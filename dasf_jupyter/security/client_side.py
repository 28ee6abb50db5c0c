"""Client side: seal and sign requests, open the sealed replies.

The client calls two hooks per request::

    payload, props, opener = security.prepare(api_info, topic, context, payload, props)
    ...                                    # publish; for every reply to this context,
    payload = opener.open(reply.payload, reply.properties)   # after reassembling fragments
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProtocolError
from .advertise import E2E_PROPERTY, SecurityInfo
from .errors import (
    DowngradeRefused,
    EncryptionRequired,
    EncryptionUnavailable,
    IdentityRequired,
    KeyChanged,
)
from .keys import IdentityKey, decode_public_key, fingerprint
from .pinning import KnownModules
from .sealing import E2E_VERSION, open_reply, reply_aad, request_aad, seal_request
from .signatures import payload_digest, sign_request


@dataclass(frozen=True)
class ReplyOpener:
    """Opens the replies (progress, log, response) of one request."""

    topic: str
    request_context: str
    reply_key: bytes | None = field(default=None, repr=False)

    @property
    def sealed(self) -> bool:
        return self.reply_key is not None

    def open(self, payload_text: str, properties: dict[str, Any]) -> str:
        """The plain payload text of a reply (base64, as without encryption).

        A sealed request's reply must be sealed too, except an error response: a module
        that could not open the request has no key to seal its refusal with.
        """
        if self.reply_key is None:
            return payload_text
        message_type = str(properties.get("messageType", ""))
        status = str(properties.get("status", ""))
        if E2E_PROPERTY not in properties:
            if message_type == "response" and status == "error":
                return payload_text
            raise EncryptionRequired(
                f"an unsealed {message_type or 'message'} arrived for a sealed request; "
                "it was not sent by the module (the broker or another party injected it)"
            )
        aad = reply_aad(self.topic, self.request_context, message_type, status)
        return base64.b64encode(open_reply(payload_text, self.reply_key, aad)).decode("ascii")


class ClientSecurity:
    """A client's identity, pinned module keys and explicitly trusted fingerprints.

    ``encrypt``: ``"auto"`` seals when the module offers a key, ``"always"`` (alias
    ``"required"``) refuses modules without one. A topic in ``trust`` or with a pinned key is
    always sealed and its key must match: it never falls back to plaintext. Keys are
    pinned in ``known_modules`` (default: the per-user file); ``pinning=False`` turns pinning
    off (then only ``trust`` protects against a substituted key).
    """

    def __init__(
        self,
        known_modules: KnownModules | None = None,
        identity: IdentityKey | None = None,
        trust: dict[str, str] | None = None,
        encrypt: str = "auto",
        pinning: bool = True,
    ) -> None:
        if encrypt not in ("auto", "always", "required"):
            raise ValueError("encrypt must be 'auto', 'always' or 'required'")
        encrypt = "always" if encrypt == "required" else encrypt
        if pinning and known_modules is None:
            known_modules = KnownModules()
        self.known_modules = known_modules if pinning else None
        self.identity = identity
        self.trust = dict(trust or {})
        self.encrypt = encrypt

    def pinned(self, topic: str) -> str | None:
        """The fingerprint pinned for ``topic`` in the known-modules file (None if none)."""
        return self.known_modules.get(topic) if self.known_modules is not None else None

    def requires_encryption(self, topic: str) -> bool:
        """Whether requests to ``topic`` must be sealed (``encrypt="always"``, trust, pin)."""
        return self.encrypt == "always" or topic in self.trust or self.pinned(topic) is not None

    def module_key(self, info: SecurityInfo | None, topic: str) -> bytes | None:
        """The verified (pinned or trusted) public key to seal to; None for plain.

        Never None for a topic that :meth:`requires_encryption`: a missing security block
        there raises :class:`DowngradeRefused` (or :class:`EncryptionUnavailable`).
        """
        if info is None or not info.encrypts:
            self._refuse_downgrade(topic)
            return None
        assert info.public_key is not None
        try:
            raw = decode_public_key(info.public_key)
        except ValueError as exc:
            raise ProtocolError(f"module {topic!r} announces a bad public key: {exc}") from None
        # recompute: the announced fingerprint is only a hint, the key is what counts
        presented = fingerprint(raw)
        trusted = self.trust.get(topic)
        if self.known_modules is not None:
            self.known_modules.check(topic, presented, trusted)
        elif trusted is not None and trusted != presented:
            raise KeyChanged(topic, trusted, presented, "pass the new fingerprint in trust")
        return raw

    def _refuse_downgrade(self, topic: str) -> None:
        trusted = self.trust.get(topic)
        if trusted is not None:
            raise DowngradeRefused(
                topic,
                f"you trust its key {trusted}",
                f"drop {topic!r} from trust= (or `--trust`) to call it unencrypted",
            )
        pinned = self.pinned(topic)
        if pinned is not None:
            assert self.known_modules is not None
            raise DowngradeRefused(
                topic,
                f"its key {pinned} is pinned in {self.known_modules.path}",
                f"remove the pin with KnownModules({str(self.known_modules.path)!r})"
                f".forget({topic!r}) (or delete the line from that file)",
            )
        if self.encrypt == "always":
            raise EncryptionUnavailable(
                f"module {topic!r} does not offer end-to-end encryption (plain mode or a "
                'reference backend) and this connection requires it (encrypt="always")'
            )

    def prepare(
        self,
        api_info: Any,
        topic: str,
        request_context: object,
        payload_text: str,
        properties: dict[str, Any],
    ) -> tuple[str, dict[str, Any], ReplyOpener]:
        """Seal (if the module encrypts) and sign (if we have an identity) one request."""
        info = SecurityInfo.from_api_info(api_info)
        context = str(request_context)
        if info is not None and info.auth_required and self.identity is None:
            raise IdentityRequired(
                f"module {topic!r} requires signed requests; create an identity with "
                "`dasf keygen`, have it added to the module's allow list and connect with it"
            )
        key = self.module_key(info, topic)
        props = dict(properties)
        reply_key = None
        if key is not None:
            try:
                plain = base64.b64decode(payload_text, validate=True)
            except (binascii.Error, ValueError):
                raise ProtocolError("request payload is not valid base64") from None
            signer = self.identity.fingerprint if self.identity else ""
            aad = request_aad(topic, context, "request", signer)
            payload_text, reply_key = seal_request(plain, key, aad)
            props[E2E_PROPERTY] = E2E_VERSION
        if self.identity is not None:
            digest = payload_digest(payload_text)
            props.update(sign_request(self.identity, topic, context, digest))
        return payload_text, props, ReplyOpener(topic, context, reply_key)
