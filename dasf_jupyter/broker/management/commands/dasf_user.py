"""``dasf_user create NAME [--superuser] [--password P]``, ``dasf_user list``,
``dasf_user deactivate NAME`` and ``dasf_user activate NAME``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or list broker users."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a user")
        create.add_argument("name")
        create.add_argument("--superuser", action="store_true", help="may do everything")
        create.add_argument("--password", help="for the admin site; tokens need none")
        create.add_argument("--email", default="")
        actions.add_parser("list", help="list users")
        for action, what in (("deactivate", "refuse"), ("activate", "accept again")):
            toggle = actions.add_parser(action, help=f"{what} all tokens of a user")
            toggle.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        if options["action"] == "list":
            for user in users.order_by("username"):
                flags = " (superuser)" if user.is_superuser else ""
                flags += "" if user.is_active else " (inactive)"
                self.stdout.write(f"{user.get_username()}{flags}")
            return
        if options["action"] in ("deactivate", "activate"):
            active = options["action"] == "activate"
            if not users.filter(username=options["name"]).update(is_active=active):
                raise CommandError(f"no user {options['name']!r} (see: dasf_user list)")
            # open sockets of a deactivated user are closed within DASF_ACCESS_RECHECK_INTERVAL
            self.stdout.write(f"{options['action']}d user {options['name']!r}")
            return
        name = options["name"]
        if users.filter(username=name).exists():
            raise CommandError(f"user {name!r} already exists")
        make = users.create_superuser if options["superuser"] else users.create_user
        # without --password the user has an unusable password: token access only
        make(name, email=options["email"], password=options["password"])
        self.stdout.write(f"created user {name!r}")
