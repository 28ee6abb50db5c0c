"""``dasf_grant USER TOPIC [--produce] [--consume] [--view]`` (no flag: all three)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from dasf_jupyter.broker.models import TopicPermission

from ._lookup import add_rights_arguments, get_topic, get_user, rights_from_options


class Command(BaseCommand):
    help = "Grant a user rights on a topic (takes effect on the user's next connection)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("user")
        parser.add_argument("topic")
        add_rights_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user, topic = get_user(options["user"]), get_topic(options["topic"])
        rights = rights_from_options(options)
        TopicPermission.objects.update_or_create(
            topic=topic, user=user, defaults={f"can_{r}": True for r in rights}
        )
        self.stdout.write(
            f"granted {', '.join(rights)} on {topic.name!r} to {user.get_username()!r}"
        )
