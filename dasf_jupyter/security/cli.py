"""``dasf keygen``: create a user identity (Ed25519) or a module key pair (X25519)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .errors import KeyFileError, SecurityError
from .keys import IdentityKey, ModuleKeyPair


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dasf keygen",
        description="Create an identity key for signing requests (default), or a module key.",
    )
    parser.add_argument("--out", help="key file (default: ~/.local/share/dasf-jupyter/...)")
    parser.add_argument("--comment", default="", help="name written after the public key")
    parser.add_argument("--force", action="store_true", help="overwrite an existing key")
    parser.add_argument(
        "--module",
        metavar="TOPIC",
        help="create (or show) the encryption key pair of the module serving TOPIC instead",
    )
    parser.add_argument(
        "--show", action="store_true", help="print the public key of an existing key only"
    )
    parser.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="encrypt (or open) the identity key with the passphrase in environment VAR",
    )
    return parser


def keygen_main(argv: Sequence[str] | None = None) -> int:
    """Run ``dasf keygen``; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.module:
            path = args.out or ModuleKeyPair.default_path(args.module)
            keypair = ModuleKeyPair.load_or_create(path)
            print(f"module key: {path}\npublic key: {keypair.public_key}")
            print(f"fingerprint: {keypair.fingerprint}")
            return 0
        path = args.out or IdentityKey.default_path()
        passphrase = None
        if args.passphrase_env:
            if not os.environ.get(args.passphrase_env):
                raise KeyFileError(f"environment variable {args.passphrase_env} is empty")
            passphrase = os.environ[args.passphrase_env].encode()
        if args.show:
            identity = IdentityKey.load(path, passphrase)
        else:
            identity = IdentityKey.generate()
            public_path = identity.save(
                path, overwrite=args.force, comment=args.comment, passphrase=passphrase
            )
            print(f"identity key: {path}\npublic key line: {public_path}")
    except SecurityError as exc:
        print(f"dasf keygen: {exc}", file=sys.stderr)
        return 1
    print(identity.public_line(args.comment))
    print(f"fingerprint: {identity.fingerprint}")
    return 0
