"""Lookups shared by the broker's management commands, failing with a clear CommandError."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from dasf_jupyter.broker.models import Topic


def get_user(username: str) -> Any:
    """The user called ``username``."""
    try:
        return get_user_model().objects.get_by_natural_key(username)
    except get_user_model().DoesNotExist:
        raise CommandError(
            f"unknown user {username!r} (create it with: dasf_user create)"
        ) from None


def get_topic(name: str) -> Topic:
    """The topic called ``name``."""
    try:
        return Topic.objects.get(name=name)
    except Topic.DoesNotExist:
        raise CommandError(f"unknown topic {name!r} (see: dasf_topic list)") from None


def rights_from_options(options: dict[str, Any]) -> list[str]:
    """The rights named by --produce/--consume/--view; all three if none is given."""
    chosen = [r for r in ("produce", "consume", "view") if options.get(r)]
    return chosen or ["produce", "consume", "view"]


def add_rights_arguments(parser: Any) -> None:
    for right in ("produce", "consume", "view"):
        parser.add_argument(f"--{right}", action="store_true", help=f"the {right} right")
