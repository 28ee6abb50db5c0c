"""Quotas on topic creation: per connection and per user (anonymous callers share one).

Every topic a caller creates (a module topic or a response topic) is a database row, so an
unbounded number of new names would fill the database and squat names for their rightful
owners. ``DASF_TOPIC_QUOTA_PER_CONNECTION`` bounds what one websocket may create,
``DASF_TOPIC_QUOTA_PER_USER`` the topics one user owns, and ``DASF_TOPIC_QUOTA_ANONYMOUS``
those anonymous callers own together; a response topic counts for these two in the hour
after its creation only. 0 = no limit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import Topic

DEFAULT_PER_CONNECTION = 50
DEFAULT_PER_USER = 1000
DEFAULT_ANONYMOUS = 5000
#: response topics count for the user quotas for this long after their creation
RESPONSE_TOPIC_WINDOW = timedelta(hours=1)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _who_owns(user: Any) -> str:
    if user is None or not user.is_authenticated:
        return "anonymous callers already own"
    return f"user {user.get_username()!r} already owns"


def owned_topic_count(user: Any) -> int:
    """Topics ``user`` owns (anonymous: that anonymous callers own) that count for the quota.

    Ordinary topics always count; response topics only in the hour after their creation
    (each new client has one; the GC deletes them once unused).
    """
    if user is None or not user.is_authenticated:
        owned = Topic.objects.filter(owner__isnull=True, owned_by_anonymous=True)
    else:
        owned = Topic.objects.filter(owner=user)
    recent = timezone.now() - RESPONSE_TOPIC_WINDOW
    return owned.filter(Q(is_response_topic=False) | Q(created__gte=recent)).count()


class CreationQuota:
    """What one connection may still create; checked before each new topic row."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.created = 0

    def refusal(self, name: str) -> str | None:
        """None if ``user`` may create topic ``name`` now, else why not."""
        per_connection = _setting("DASF_TOPIC_QUOTA_PER_CONNECTION", DEFAULT_PER_CONNECTION)
        if per_connection and self.created >= per_connection:
            return (
                f"topic {name!r} not created: this connection already created "
                f"{self.created} topics (DASF_TOPIC_QUOTA_PER_CONNECTION={per_connection})"
            )
        authenticated = self.user is not None and self.user.is_authenticated
        if authenticated and self.user.is_superuser:
            return None
        setting, default = (
            ("DASF_TOPIC_QUOTA_PER_USER", DEFAULT_PER_USER)
            if authenticated
            else ("DASF_TOPIC_QUOTA_ANONYMOUS", DEFAULT_ANONYMOUS)
        )
        limit = _setting(setting, default)
        if limit and owned_topic_count(self.user) >= limit:
            return (
                f"topic {name!r} not created: {_who_owns(self.user)} {limit} topics "
                f"({setting}={limit}; an admin can delete topics with dasf_topic delete)"
            )
        return None

    def count(self) -> None:
        """Record that this connection created a topic."""
        self.created += 1
