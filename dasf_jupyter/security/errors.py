"""The exceptions of the security layer, one class per reason a message is refused.

::

    DasfError
    └── SecurityError
        ├── KeyFileError          a key / allow-list / known-modules file is unusable
        ├── AllowListError        the allow list cannot be parsed (requests fail closed)
        ├── KeyChanged            a module presents another key than the pinned one
        ├── EncryptionUnavailable the client wants encryption, the module offers none
        │   └── DowngradeRefused  a pinned/trusted/required module suddenly offers none
        ├── IdentityRequired      the module needs signed requests, the client has no identity
        ├── SealError             a sealed payload cannot be opened
        │   ├── MalformedSealed   not a sealed payload of a known version (garbage, truncated)
        │   ├── WrongKey          sealed to another key than ours
        │   ├── ContextMismatch   sealed for another topic / requestContext / message type
        │   ├── TamperedCiphertext the authenticated decryption failed
        │   ├── EncryptionRequired a plain message where only sealed ones are accepted
        │   └── EncryptionUnsupported a sealed message to a module in plain mode
        └── AuthError
            ├── SignatureMissing  no signature, but the module requires one
            ├── BadSignature      the signature does not verify (or is malformed)
            ├── StaleTimestamp    signed too long ago, or in the future
            ├── ReplayedNonce     the nonce was seen before
            ├── ReplayCheckUnavailable the shared nonce store (Redis) cannot be reached
            ├── UnknownUser       the key is not on the allow list
            └── FunctionNotAllowed the user may not call this function

Messages are written to be sent back verbatim in an error response: they never contain
secrets or plaintext.
"""

from __future__ import annotations

from ..errors import DasfError


class SecurityError(DasfError):
    """Base class of everything the security layer refuses."""


class KeyFileError(SecurityError):
    """A key file (or known-modules file) is missing, unreadable or too open."""


class AllowListError(SecurityError):
    """The allow-list file cannot be read or parsed; every signed request is refused."""


class KeyChanged(SecurityError):
    """A module presents a public key other than the pinned (or trusted) one."""

    def __init__(self, topic: str, expected: str, presented: str, how_to_accept: str) -> None:
        self.topic = topic
        self.expected = expected
        self.presented = presented
        super().__init__(
            f"the key of module {topic!r} changed: expected {expected}, the module presents "
            f"{presented}. This may be a legitimate key rotation or someone impersonating the "
            f"module. If you trust the new key, {how_to_accept}"
        )


class EncryptionUnavailable(SecurityError):
    """The client requires encryption but the module does not offer it."""


class DowngradeRefused(EncryptionUnavailable):
    """A module whose key is pinned or trusted (or ``encrypt="required"``) offers no key now.

    The request is not sent: absence of the security block is a signal to refuse, since a
    broker that strips it from api_info would otherwise read the plaintext.
    """

    def __init__(self, topic: str, reason: str, how_to_accept: str) -> None:
        self.topic = topic
        super().__init__(
            f"refusing to send a plaintext request to module {topic!r}: {reason}, but the "
            "module's api_info does not offer end-to-end encryption now (no x-dasf-security "
            "key, or plain mode). The broker or an impostor on the topic may be stripping "
            f"encryption. If the module really was switched to plain mode, {how_to_accept}"
        )


class IdentityRequired(SecurityError):
    """The module requires signed requests but the client has no identity key."""


class SealError(SecurityError):
    """A sealed payload cannot be opened."""


class MalformedSealed(SealError):
    """The payload is not a sealed payload of a supported version."""


class WrongKey(SealError):
    """The payload was sealed to another public key."""


class ContextMismatch(SealError):
    """The payload was sealed for another topic, requestContext or message type."""


class TamperedCiphertext(SealError):
    """Authenticated decryption failed: the ciphertext or its bound data was modified."""


class EncryptionRequired(SealError):
    """A plain message arrived where only sealed messages are accepted."""


class EncryptionUnsupported(SealError):
    """A sealed request reached a module that does not decrypt (plain mode)."""


class AuthError(SecurityError):
    """The caller of a request could not be authenticated or is not authorised."""


class SignatureMissing(AuthError):
    """The request carries no signature but the module requires one."""


class BadSignature(AuthError):
    """The signature is malformed or does not verify."""


class StaleTimestamp(AuthError):
    """The signature's timestamp is outside the freshness window."""


class ReplayedNonce(AuthError):
    """The request's nonce was already used within the freshness window."""


class ReplayCheckUnavailable(AuthError):
    """The shared nonce store cannot be reached, so the request is refused (fail closed)."""


class UnknownUser(AuthError):
    """The signing key is not on the module's allow list."""


class FunctionNotAllowed(AuthError):
    """The user is on the allow list but not for the called function."""
