"""``dasf_grant USER TOPIC [--produce] [--consume] [--view]`` (no flag: all three)."""

from __future__ import annotations

from typing import Any

from dasf_jupyter.broker.models import Topic, TopicPermission

from ._base import RightsCommand


class Command(RightsCommand):
    help = "Grant a user rights on a topic (takes effect on the user's next connection)."

    def change(self, user: Any, topic: Topic, rights: list[str]) -> str:
        TopicPermission.objects.update_or_create(
            topic=topic, user=user, defaults={f"can_{r}": True for r in rights}
        )
        return f"granted {', '.join(rights)} on {topic.name!r} to {user.get_username()!r}"
