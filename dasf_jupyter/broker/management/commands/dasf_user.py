"""``dasf_user create NAME [--superuser] [--password P]``, ``dasf_user list``,
``dasf_user deactivate NAME`` and ``dasf_user activate NAME``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ._base import ActionCommand, action, arg, flag


class Command(ActionCommand):
    help = "Create or list broker users."

    @action(
        "create a user",
        arg("name"),
        flag("--superuser", "may do everything"),
        arg("--password", help="for the admin site; tokens need none"),
        arg("--email", default=""),
    )
    def _create(self, options: dict[str, Any]) -> None:
        users = get_user_model().objects
        name = options["name"]
        if users.filter(username=name).exists():
            raise CommandError(f"user {name!r} already exists")
        make = users.create_superuser if options["superuser"] else users.create_user
        # without --password the user has an unusable password: token access only
        make(name, email=options["email"], password=options["password"])
        self.stdout.write(f"created user {name!r}")

    @action("list users")
    def _list(self, options: dict[str, Any]) -> None:
        for user in get_user_model().objects.order_by("username"):
            flags = " (superuser)" if user.is_superuser else ""
            flags += "" if user.is_active else " (inactive)"
            self.stdout.write(f"{user.get_username()}{flags}")

    @action("refuse all tokens of a user", arg("name"))
    def _deactivate(self, options: dict[str, Any]) -> None:
        # open sockets of a deactivated user are closed within DASF_ACCESS_RECHECK_INTERVAL
        self._set_active(options, active=False)

    @action("accept again all tokens of a user", arg("name"))
    def _activate(self, options: dict[str, Any]) -> None:
        self._set_active(options, active=True)

    def _set_active(self, options: dict[str, Any], *, active: bool) -> None:
        if not get_user_model().objects.filter(username=options["name"]).update(is_active=active):
            raise CommandError(f"no user {options['name']!r} (see: dasf_user list)")
        self.stdout.write(f"{options['action']}d user {options['name']!r}")
