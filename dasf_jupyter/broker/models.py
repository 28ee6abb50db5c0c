"""Database models of the broker: topics, per-topic permissions and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from ..protocol.names import TOPIC_MAX_LENGTH, TOPIC_PATTERN, topic_name_error

#: the names of the rules in :mod:`dasf_jupyter.protocol.names` this module has always exported
TOPIC_NAME_MAX_LENGTH = TOPIC_MAX_LENGTH
TOPIC_NAME_PATTERN = TOPIC_PATTERN


def validate_topic_name(name: str) -> None:
    """Django field validator wrapping :func:`topic_name_error`."""
    error = topic_name_error(name)
    if error:
        raise ValidationError(error)


def hash_token_key(key: str) -> str:
    """Return the sha256 hex digest under which a token key is stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Topic(models.Model):
    """A DASF topic: a backend module's request topic or a caller's response topic."""

    name = models.CharField(
        max_length=TOPIC_NAME_MAX_LENGTH, unique=True, validators=[validate_topic_name]
    )
    description = models.TextField(blank=True, default="")
    is_public = models.BooleanField(
        default=False, help_text="Anyone, including anonymous users, may produce and view."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dasf_topics",
    )
    owned_by_anonymous = models.BooleanField(
        default=False,
        help_text="Created by an anonymous caller. Only a response topic's anonymous owner "
        "gets rights from it; a missing owner never matches anyone.",
    )
    is_response_topic = models.BooleanField(default=False)
    claimable_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Created by a subscription before its request topic existed: until then, "
        "its creator's first request may make it that request's response topic.",
    )
    source_topic = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="response_topics",
    )
    api_info = models.JSONField(
        null=True, blank=True, help_text="Last api_info reply of the backend."
    )
    last_ping = models.DateTimeField(null=True, blank=True)
    last_pong = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(
        null=True, blank=True, help_text="Coarse (at most once a minute); for garbage collection."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TopicPermission(models.Model):
    """What one user may do with one topic."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="permissions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dasf_topic_permissions"
    )
    can_produce = models.BooleanField(default=False)
    can_consume = models.BooleanField(default=False)
    can_view = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="unique_topic_user_permission")
        ]

    def __str__(self) -> str:
        rights = [r for r in ("produce", "consume", "view") if getattr(self, f"can_{r}")]
        return f"{self.user} on {self.topic}: {', '.join(rights) or 'nothing'}"


class ApiToken(models.Model):
    """A user's API token; only the sha256 of the key is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dasf_tokens"
    )
    name = models.CharField(max_length=100, blank=True, default="")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        label = self.name or f"token {self.pk}"
        return f"{label} ({self.user}{', revoked' if self.revoked else ''})"

    @staticmethod
    def new_key() -> str:
        """A fresh random key; never starting with "-", so it is never taken for a CLI option."""
        while (key := secrets.token_urlsafe(32)).startswith("-"):
            pass
        return key

    @classmethod
    def create_for(cls, user: models.Model, name: str = "") -> tuple[ApiToken, str]:
        """Create a token for ``user``; return it and the plain key (shown only once)."""
        key = cls.new_key()
        token = cls.objects.create(user=user, name=name, key_hash=hash_token_key(key))
        return token, key


def stale_response_topics(max_age_seconds: float) -> models.QuerySet[Topic]:
    """Response topics unused for ``max_age_seconds`` (by last_used, else by creation)."""
    cutoff = timezone.now() - timedelta(seconds=max_age_seconds)
    unused = models.Q(last_used__lt=cutoff) | models.Q(last_used__isnull=True, created__lt=cutoff)
    return Topic.objects.filter(unused, is_response_topic=True)
