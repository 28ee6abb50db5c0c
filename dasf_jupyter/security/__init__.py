"""End-to-end encryption and caller authentication for DASF messages.

Choices: requests are sealed with HPKE (RFC 9180, DHKEM-X25519 / HKDF-SHA256 /
ChaCha20-Poly1305, from ``cryptography``); replies with ChaCha20-Poly1305 under a per-request
key carried inside the sealed request; users sign requests with Ed25519. Extensions travel in
properties (``dasf_e2e``, ``dasf_sig*``) and api_info (``x-dasf-security``) that reference
peers ignore.
"""

from .advertise import API_INFO_KEY, E2E_PROPERTY, SecurityInfo, SecurityMode
from .allowlist import AllowedUser, AllowList
from .caller import Caller, caller_parameters
from .client_side import ClientSecurity, ReplyOpener
from .errors import (
    AllowListError,
    AuthError,
    BadSignature,
    ContextMismatch,
    DowngradeRefused,
    EncryptionRequired,
    EncryptionUnavailable,
    EncryptionUnsupported,
    FunctionNotAllowed,
    IdentityRequired,
    KeyChanged,
    KeyFileError,
    MalformedSealed,
    ReplayCheckUnavailable,
    ReplayedNonce,
    SealError,
    SecurityError,
    SignatureMissing,
    StaleTimestamp,
    TamperedCiphertext,
    UnknownUser,
    WrongKey,
)
from .keys import IdentityKey, ModuleKeyPair, fingerprint
from .pinning import KnownModules
from .policy import RequestSecurity, SecurityPolicy, member_name
from .replay import FileReplayStore, RedisReplayStore, ReplayStore, replay_store
from .sealing import (
    E2E_ALGORITHM,
    E2E_VERSION,
    OpenedRequest,
    open_reply,
    open_request,
    reply_aad,
    request_aad,
    seal_reply,
    seal_request,
)
from .signatures import ReplayCache, SigProp, payload_digest, sign_request, verify_request

__all__ = [
    "API_INFO_KEY",
    "E2E_ALGORITHM",
    "E2E_PROPERTY",
    "E2E_VERSION",
    "AllowList",
    "AllowListError",
    "AllowedUser",
    "AuthError",
    "BadSignature",
    "Caller",
    "ClientSecurity",
    "ContextMismatch",
    "DowngradeRefused",
    "EncryptionRequired",
    "EncryptionUnavailable",
    "EncryptionUnsupported",
    "FunctionNotAllowed",
    "IdentityKey",
    "IdentityRequired",
    "KeyChanged",
    "KeyFileError",
    "KnownModules",
    "MalformedSealed",
    "ModuleKeyPair",
    "ReplayCache",
    "ReplayCheckUnavailable",
    "ReplayedNonce",
    "ReplayStore",
    "FileReplayStore",
    "RedisReplayStore",
    "OpenedRequest",
    "replay_store",
    "ReplyOpener",
    "RequestSecurity",
    "SealError",
    "SecurityError",
    "SecurityInfo",
    "SecurityMode",
    "SecurityPolicy",
    "SigProp",
    "SignatureMissing",
    "StaleTimestamp",
    "TamperedCiphertext",
    "UnknownUser",
    "WrongKey",
    "caller_parameters",
    "fingerprint",
    "member_name",
    "open_reply",
    "open_request",
    "payload_digest",
    "reply_aad",
    "request_aad",
    "seal_reply",
    "seal_request",
    "sign_request",
    "verify_request",
]
