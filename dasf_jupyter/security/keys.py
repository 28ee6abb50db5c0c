"""Long-term keys: the module's X25519 key pair and the user's Ed25519 identity.

Fingerprints follow ssh: ``SHA256:`` + unpadded base64 of the SHA-256 of the raw public key.
Private keys are stored as unencrypted PKCS#8 PEM with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from .errors import KeyFileError
from .files import (
    check_private_file,
    data_dir,
    default_key_dir,
    write_private_new,
    write_private_replace,
)

#: first word of a public identity line (``dasf-ed25519 <base64> [comment]``)
IDENTITY_KEY_TYPE = "dasf-ed25519"
RAW_KEY_SIZE = 32

_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw


def fingerprint(raw_public_key: bytes) -> str:
    """ssh-style fingerprint of a raw public key: ``SHA256:<base64 without padding>``."""
    digest = hashlib.sha256(raw_public_key).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def encode_public_key(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def decode_public_key(text: str) -> bytes:
    """Raw 32-byte key from its base64 text; ValueError if it is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("public key is not valid base64") from None
    if len(raw) != RAW_KEY_SIZE:
        raise ValueError(f"public key must be {RAW_KEY_SIZE} bytes, got {len(raw)}")
    return raw


def _pem_private(
    key: x25519.X25519PrivateKey | ed25519.Ed25519PrivateKey, passphrase: bytes | None = None
) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _load_private(path: Path, kind: type, passphrase: bytes | None = None):
    check_private_file(path)
    data = path.read_bytes()
    if b"ENCRYPTED" in data.split(b"\n", 1)[0] and not passphrase:
        raise KeyFileError(f"{path} is protected by a passphrase; provide it to load the key")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except (ValueError, TypeError, OSError) as exc:
        raise KeyFileError(f"{path} does not hold a usable private key: {exc}") from None
    if not isinstance(key, kind):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, expected {kind.__name__}")
    return key


class _PublicParts:
    """The public half of ``self.private_key`` (X25519 or Ed25519) in its published forms."""

    private_key: x25519.X25519PrivateKey | ed25519.Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(_RAW, _RAW_PUB)

    @property
    def public_key(self) -> str:
        """Base64 of the raw public key, as published in api_info or an allow-list."""
        return encode_public_key(self.public_bytes)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_bytes)


@dataclass(frozen=True)
class ModuleKeyPair(_PublicParts):
    """A backend module's long-term X25519 key pair (requests are sealed to it)."""

    private_key: x25519.X25519PrivateKey

    @classmethod
    def generate(cls) -> ModuleKeyPair:
        return cls(x25519.X25519PrivateKey.generate())

    @staticmethod
    def default_path(topic: str) -> Path:
        """``~/.local/share/dasf-jupyter/keys/<topic>.x25519.pem``."""
        return default_key_dir() / f"{topic}.x25519.pem"

    @classmethod
    def load(cls, path: str | Path) -> ModuleKeyPair:
        return cls(_load_private(Path(path), x25519.X25519PrivateKey))

    @classmethod
    def load_or_create(
        cls, path: str | Path | None = None, topic: str = "module"
    ) -> ModuleKeyPair:
        """Load the key at ``path``; create it first (mode 0600, dirs 0700) if missing.

        Without ``path`` the key lives at :meth:`default_path` of ``topic``.
        """
        path = Path(path).expanduser() if path else cls.default_path(topic)
        if not path.exists():
            write_private_new(path, _pem_private(x25519.X25519PrivateKey.generate()))
        return cls.load(path)


@dataclass(frozen=True)
class IdentityKey(_PublicParts):
    """A user's Ed25519 identity: signs requests so modules know who calls."""

    private_key: ed25519.Ed25519PrivateKey

    @staticmethod
    def default_path() -> Path:
        """``~/.local/share/dasf-jupyter/identity.ed25519.pem``."""
        return data_dir() / "identity.ed25519.pem"

    @classmethod
    def generate(cls) -> IdentityKey:
        return cls(ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | Path | None = None, passphrase: bytes | None = None) -> IdentityKey:
        path = Path(path).expanduser() if path else cls.default_path()
        return cls(_load_private(path, ed25519.Ed25519PrivateKey, passphrase))

    def save(
        self,
        path: str | Path,
        overwrite: bool = False,
        comment: str = "",
        passphrase: bytes | None = None,
    ) -> Path:
        """Write the private key (0600, optionally passphrase-encrypted) and ``<path>.pub``."""
        path = Path(path).expanduser()
        pem = _pem_private(self.private_key, passphrase)
        if overwrite:
            write_private_replace(path, pem)
        elif not write_private_new(path, pem):
            raise KeyFileError(f"{path} exists; use --force to overwrite it")
        public_path = path.with_name(path.name + ".pub")
        public_path.write_text(self.public_line(comment) + "\n")
        return public_path

    def public_line(self, comment: str = "") -> str:
        """``dasf-ed25519 <base64> [comment]`` — one line of an allow-list file."""
        return f"{IDENTITY_KEY_TYPE} {self.public_key} {comment}".rstrip()

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def verify_ed25519(raw_public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True if ``signature`` is a valid Ed25519 signature of ``message``."""
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(raw_public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
