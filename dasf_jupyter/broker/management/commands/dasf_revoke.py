"""``dasf_revoke USER TOPIC [--produce] [--consume] [--view]`` (no flag: all three)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from dasf_jupyter.broker.models import TopicPermission

from ._lookup import add_rights_arguments, get_topic, get_user, rights_from_options


class Command(BaseCommand):
    help = (
        "Revoke a user's rights on a topic; open connections that relied on them are closed "
        "(code 4403) within DASF_ACCESS_RECHECK_INTERVAL seconds (default 2)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("user")
        parser.add_argument("topic")
        add_rights_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user, topic = get_user(options["user"]), get_topic(options["topic"])
        rights = rights_from_options(options)
        permission = TopicPermission.objects.filter(topic=topic, user=user).first()
        if permission is not None:
            for right in rights:
                setattr(permission, f"can_{right}", False)
            if permission.can_produce or permission.can_consume or permission.can_view:
                permission.save()
            else:
                permission.delete()
        note = " (ownership still grants everything)" if topic.owner_id == user.pk else ""
        self.stdout.write(
            f"revoked {', '.join(rights)} on {topic.name!r} from {user.get_username()!r}{note}"
        )
