"""What a module announces about its security in api_info (key ``x-dasf-security``).

Reference clients parse api_info with pydantic models that ignore unknown keys, so the
extension is invisible to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import ProtocolError
from .sealing import E2E_ALGORITHM

#: the api_info key of the security extension
API_INFO_KEY = "x-dasf-security"
#: property marking a sealed payload (value: sealing version, e.g. "v1")
E2E_PROPERTY = "dasf_e2e"


class SecurityMode(str, Enum):
    """How a module treats encryption."""

    PLAIN = "plain"
    ENCRYPTED_OPTIONAL = "encrypted-optional"
    ENCRYPTED_REQUIRED = "encrypted-required"


@dataclass(frozen=True)
class SecurityInfo:
    """The ``x-dasf-security`` object of a module's api_info."""

    mode: SecurityMode = SecurityMode.PLAIN
    public_key: str | None = None
    fingerprint: str | None = None
    auth_required: bool = False
    algorithm: str = E2E_ALGORITHM

    @property
    def encrypts(self) -> bool:
        return self.mode is not SecurityMode.PLAIN and self.public_key is not None

    def to_json(self) -> dict[str, Any]:
        info: dict[str, Any] = {"mode": self.mode.value, "auth": {"required": self.auth_required}}
        info["auth"]["scheme"] = "ed25519-v1"
        if self.public_key:
            info.update(e2e=self.algorithm, public_key=self.public_key)
            info["fingerprint"] = self.fingerprint
        return info

    @classmethod
    def from_api_info(cls, api_info: Any) -> SecurityInfo | None:
        """Read the extension from api_info (dict, JSON-able model, or None); None if absent.

        A :class:`SecurityInfo` (read once, kept by the caller) is returned as it is.
        """
        if api_info is None or isinstance(api_info, SecurityInfo):
            return api_info
        if not isinstance(api_info, Mapping):
            dump = getattr(api_info, "model_dump", None)
            api_info = dump() if callable(dump) else getattr(api_info, "__dict__", {})
        raw = api_info.get(API_INFO_KEY) if isinstance(api_info, Mapping) else None
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise ProtocolError(f"api_info {API_INFO_KEY!r} must be an object")
        try:
            mode = SecurityMode(raw.get("mode", "plain"))
        except ValueError:
            raise ProtocolError(f"unknown security mode {raw.get('mode')!r}") from None
        auth = raw.get("auth") or {}
        public_key = raw.get("public_key")
        return cls(
            mode=mode,
            public_key=public_key if isinstance(public_key, str) else None,
            fingerprint=raw.get("fingerprint"),
            auth_required=bool(auth.get("required")) if isinstance(auth, Mapping) else False,
            algorithm=str(raw.get("e2e", E2E_ALGORITHM)),
        )
