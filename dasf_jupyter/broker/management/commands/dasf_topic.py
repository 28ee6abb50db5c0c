"""``dasf_topic create NAME [--public] [--description D] [--owner U] [--force]``, ``list``,
``delete``; ``--force`` takes over a name someone else created (squatted)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.db import transaction

from dasf_jupyter.broker.models import Topic, TopicPermission, topic_name_error

from ._base import ActionCommand, action, arg, flag
from ._lookup import get_topic, get_user


class Command(ActionCommand):
    help = "Create, list and delete broker topics."

    @action(
        "create a topic",
        arg("name"),
        flag("--public", "anyone may call and view it"),
        arg("--description", default=""),
        arg("--owner", help="user with all rights on the topic"),
        flag(
            "--force",
            "take the topic over if it exists: new owner and flags, its permission rows "
            "removed, never a response topic (for a name squatted by someone else)",
        ),
    )
    def _create(self, options: dict[str, Any]) -> None:
        name = options["name"]
        error = topic_name_error(name)
        if error:
            raise CommandError(error)
        owner = get_user(options["owner"]) if options["owner"] else None
        fields = {
            "is_public": options["public"],
            "description": options["description"],
            "owner": owner,
        }
        existing = Topic.objects.select_related("owner").filter(name=name).first()
        if existing is None:
            Topic.objects.create(name=name, **fields)
            self.stdout.write(f"created topic {name!r}")
            return
        if not options["force"]:
            raise CommandError(
                f"topic {name!r} already exists (created by {_creator(existing)}); "
                "--force takes it over"
            )
        self.stdout.write(_take_over(existing, fields))

    @action("list topics", flag("--all", "include response topics of callers"))
    def _list(self, options: dict[str, Any]) -> None:
        topics = Topic.objects.select_related("owner")
        if not options["all"]:
            topics = topics.filter(is_response_topic=False)
        for topic in topics:
            owner = _creator(topic) if topic.owner or topic.owned_by_anonymous else "-"
            flags = [
                f
                for f, on in (("public", topic.is_public), ("response", topic.is_response_topic))
                if on
            ]
            pong = topic.last_pong.isoformat() if topic.last_pong else "never"
            self.stdout.write(
                f"{topic.name}\towner {owner}\t{','.join(flags) or '-'}\tlast pong {pong}"
            )

    @action("delete a topic and its response topics", arg("name"))
    def _delete(self, options: dict[str, Any]) -> None:
        topic = get_topic(options["name"])
        topic.delete()
        self.stdout.write(f"deleted topic {topic.name!r}")


def _creator(topic: Topic) -> str:
    """Who owns ``topic``, for messages."""
    if topic.owner is not None:
        return topic.owner.get_username()
    return "anonymous" if topic.owned_by_anonymous else "nobody"


@transaction.atomic
def _take_over(topic: Topic, fields: dict[str, Any]) -> str:
    """Make the existing ``topic`` an ordinary topic with ``fields``; say what changed."""
    previous = _creator(topic)
    removed, _ = TopicPermission.objects.filter(topic=topic).delete()
    Topic.objects.filter(pk=topic.pk).update(
        **fields,
        owned_by_anonymous=False,
        is_response_topic=False,
        source_topic=None,
        claimable_until=None,
    )
    return (
        f"took over topic {topic.name!r} (was created by {previous}; "
        f"{removed} permission row(s) removed)"
    )
