"""``dasf_revoke USER TOPIC [--produce] [--consume] [--view]`` (no flag: all three)."""

from __future__ import annotations

from typing import Any

from dasf_jupyter.broker.models import Topic, TopicPermission

from ._base import RightsCommand


class Command(RightsCommand):
    help = (
        "Revoke a user's rights on a topic; open connections that relied on them are closed "
        "(code 4403) within DASF_ACCESS_RECHECK_INTERVAL seconds (default 2)."
    )

    def change(self, user: Any, topic: Topic, rights: list[str]) -> str:
        permission = TopicPermission.objects.filter(topic=topic, user=user).first()
        if permission is not None:
            for right in rights:
                setattr(permission, f"can_{right}", False)
            if permission.can_produce or permission.can_consume or permission.can_view:
                permission.save()
            else:
                permission.delete()
        note = " (ownership still grants everything)" if topic.owner_id == user.pk else ""
        return f"revoked {', '.join(rights)} on {topic.name!r} from {user.get_username()!r}{note}"
