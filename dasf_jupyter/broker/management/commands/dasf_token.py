"""``dasf_token create USER [--name N]``, ``dasf_token list [USER]``, ``dasf_token revoke K``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from dasf_jupyter.broker.models import ApiToken, hash_token_key

from ._base import ActionCommand, action, arg
from ._lookup import get_user


class Command(ActionCommand):
    help = "Create, list and revoke API tokens (the key is shown only on creation)."

    @action(
        "create a token and print its key",
        arg("user"),
        arg("--name", default="", help="a label, e.g. the machine it is for"),
    )
    def _create(self, options: dict[str, Any]) -> None:
        _, key = ApiToken.create_for(get_user(options["user"]), name=options["name"])
        # the key alone on stdout, so scripts can capture it: KEY=$(dasf-broker manage ...)
        self.stdout.write(key)

    @action("list tokens (never their keys)", arg("user", nargs="?"))
    def _list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("user")
        if options["user"]:
            tokens = tokens.filter(user=get_user(options["user"]))
        for token in tokens:
            used = token.last_used.isoformat() if token.last_used else "never"
            state = "revoked" if token.revoked else "active"
            self.stdout.write(
                f"{token.pk}\t{token.user.get_username()}\t{token.name or '-'}\t{state}\t"
                f"created {token.created.isoformat()}\tlast used {used}"
            )

    @action("revoke a token by key or id", arg("key_or_id"))
    def _revoke(self, options: dict[str, Any]) -> None:
        value = options["key_or_id"]
        token = ApiToken.objects.filter(key_hash=hash_token_key(value)).first()
        if token is None and value.isdigit():
            token = ApiToken.objects.filter(pk=int(value)).first()
        if token is None:
            raise CommandError("no token with this key or id (see: dasf_token list)")
        ApiToken.objects.filter(pk=token.pk).update(revoked=True)
        self.stdout.write(f"revoked token {token.pk} of user {token.user.get_username()!r}")
