"""How a connection protects its calls: one frozen options object instead of four keywords."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict, get_args

if TYPE_CHECKING:
    from ..security import ClientSecurity, IdentityKey, KnownModules

#: ``"auto"`` seals requests to modules that offer a key; ``"always"`` (alias ``"required"``)
#: refuses modules that do not
Encrypt = Literal["auto", "always", "required"]
_ENCRYPT: tuple[str, ...] = get_args(Encrypt)


@dataclass(frozen=True)
class Security:
    """End-to-end security of a :class:`~dasf_jupyter.client.Connection`.

    ``identity`` (an ``IdentityKey`` or the path of one made by ``dasf keygen``) signs every
    request; ``trust`` maps topics to the key fingerprints they must have; module keys are
    pinned in ``known_modules`` (default: the per-user file). A trusted or pinned topic is
    never called in plaintext.
    """

    identity: IdentityKey | str | Path | None = None
    trust: Mapping[str, str] = field(default_factory=dict)
    encrypt: Encrypt = "auto"
    known_modules: KnownModules | str | Path | None = None

    def __post_init__(self) -> None:
        if self.encrypt not in _ENCRYPT:
            raise ValueError(f"encrypt must be one of {', '.join(map(repr, _ENCRYPT))}")

    def client_security(self) -> ClientSecurity:
        """The runtime state: keys loaded, pin file opened."""
        from ..security import ClientSecurity, IdentityKey, KnownModules

        identity = self.identity
        if identity is not None and not isinstance(identity, IdentityKey):
            identity = IdentityKey.load(identity)
        known = self.known_modules
        if known is not None and not isinstance(known, KnownModules):
            known = KnownModules(known)
        return ClientSecurity(known, identity, dict(self.trust), self.encrypt)


class SecurityKeywords(TypedDict, total=False):
    """The fields of :class:`Security`, accepted as keywords by ``connect()`` too."""

    identity: IdentityKey | str | Path | None
    trust: Mapping[str, str] | None
    encrypt: Encrypt
    known_modules: KnownModules | str | Path | None


def security_from(security: Security | None, keywords: Mapping[str, object]) -> Security:
    """``security``, or one made from the shorthand ``keywords`` (not both)."""
    unknown = set(keywords) - set(SecurityKeywords.__annotations__)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    if security is not None and keywords:
        raise TypeError("pass either security=Security(...) or its fields as keywords, not both")
    if security is not None:
        return security
    values = dict(keywords)
    if values.get("trust") is None:
        values.pop("trust", None)
    return Security(**values)  # type: ignore[arg-type]
