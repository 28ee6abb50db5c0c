"""``dasf_topic create NAME [--public] [--description D] [--owner U]``, ``list``, ``delete``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dasf_jupyter.broker.models import Topic, topic_name_error

from ._lookup import get_topic, get_user


class Command(BaseCommand):
    help = "Create, list and delete broker topics."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a topic")
        create.add_argument("name")
        create.add_argument("--public", action="store_true", help="anyone may call and view it")
        create.add_argument("--description", default="")
        create.add_argument("--owner", help="user with all rights on the topic")
        listing = actions.add_parser("list", help="list topics")
        listing.add_argument(
            "--all", action="store_true", help="include response topics of callers"
        )
        delete = actions.add_parser("delete", help="delete a topic and its response topics")
        delete.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> None:
        name = options["name"]
        error = topic_name_error(name)
        if error:
            raise CommandError(error)
        if Topic.objects.filter(name=name).exists():
            raise CommandError(f"topic {name!r} already exists")
        owner = get_user(options["owner"]) if options["owner"] else None
        Topic.objects.create(
            name=name,
            is_public=options["public"],
            description=options["description"],
            owner=owner,
        )
        self.stdout.write(f"created topic {name!r}")

    def _list(self, options: dict[str, Any]) -> None:
        topics = Topic.objects.select_related("owner")
        if not options["all"]:
            topics = topics.filter(is_response_topic=False)
        for topic in topics:
            owner = topic.owner.get_username() if topic.owner else "-"
            flags = [
                f
                for f, on in (("public", topic.is_public), ("response", topic.is_response_topic))
                if on
            ]
            pong = topic.last_pong.isoformat() if topic.last_pong else "never"
            self.stdout.write(
                f"{topic.name}\towner {owner}\t{','.join(flags) or '-'}\tlast pong {pong}"
            )

    def _delete(self, options: dict[str, Any]) -> None:
        topic = get_topic(options["name"])
        topic.delete()
        self.stdout.write(f"deleted topic {topic.name!r}")
