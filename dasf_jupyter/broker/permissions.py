"""Who may produce to, consume from and view which topic; cached per connection."""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Topic, TopicPermission, topic_name_error

# a refused connection may retry; re-check the DB after this many seconds, not per message
REFUSAL_CACHE_SECONDS = 5.0
# a revoked right must not outlive its revocation by more than this on an open connection
GRANT_CACHE_SECONDS = 2.0
# a connection naming ever new response topics must not grow memory without bound
MAX_CACHED_DECISIONS = 10_000


def is_secure() -> bool:
    """Whether the broker runs in secure mode (tokens and permissions enforced)."""
    return bool(getattr(settings, "DASF_BROKER_SECURE", False))


def describe_user(user: Any) -> str:
    """Name a user for refusal texts."""
    if user is None or not user.is_authenticated:
        return "anonymous user"
    return f"user {user.get_username()!r}"


def may_create_topics(user: Any) -> bool:
    """Open mode: anyone; secure mode: authenticated users."""
    return not is_secure() or user.is_authenticated


def _grant(user: Any, topic: Topic, right: str) -> bool:
    """Whether a TopicPermission row gives ``user`` the ``right`` on ``topic``."""
    if not user.is_authenticated:
        return False
    return TopicPermission.objects.filter(
        topic=topic, user=user, **{f"can_{right}": True}
    ).exists()


def _is_owner(user: Any, topic: Topic) -> bool:
    return user.is_authenticated and topic.owner_id == user.pk


def may_consume_topic(user: Any, topic: Topic) -> bool:
    """Consume rule for an existing topic."""
    if user.is_authenticated and user.is_superuser:
        return True
    if topic.is_response_topic:
        if topic.owner_id is None:
            # anonymous requesters: anywhere in open mode, of public topics in secure mode;
            # the random name is the capability
            source = topic.source_topic
            return not is_secure() or (source is not None and source.is_public)
        return _is_owner(user, topic)
    if not is_secure():
        return True
    return _is_owner(user, topic) or _grant(user, topic, "consume")


def may_produce_topic(user: Any, topic: Topic) -> bool:
    """Produce rule for an existing topic."""
    if user.is_authenticated and user.is_superuser:
        return True
    if topic.is_response_topic:
        source = topic.source_topic
        if source is not None and may_consume_topic(user, source):
            return True
        return _grant(user, topic, "produce")
    if not is_secure() or topic.is_public:
        return True
    return _is_owner(user, topic) or _grant(user, topic, "produce")


def may_view_topic(user: Any, topic: Topic) -> bool:
    """View rule (discovery API); response topics are private to their owner."""
    if user.is_authenticated and user.is_superuser:
        return True
    if topic.is_response_topic:
        return _is_owner(user, topic)
    if not is_secure() or topic.is_public or _is_owner(user, topic):
        return True
    if not user.is_authenticated:
        return False
    rights = Q(can_view=True) | Q(can_produce=True) | Q(can_consume=True)
    return TopicPermission.objects.filter(rights, topic=topic, user=user).exists()


def visible_topics(user: Any) -> QuerySet[Topic]:
    """Non-response topics ``user`` may view, for the discovery list."""
    topics = Topic.objects.filter(is_response_topic=False)
    if not is_secure() or (user.is_authenticated and user.is_superuser):
        return topics
    visible = Q(is_public=True)
    if user.is_authenticated:
        rights = Q(can_view=True) | Q(can_produce=True) | Q(can_consume=True)
        granted = TopicPermission.objects.filter(rights, user=user).values("topic_id")
        visible |= Q(owner=user) | Q(pk__in=granted)
    return topics.filter(visible)


def get_or_create_topic(user: Any, name: str) -> tuple[Topic | None, str | None]:
    """Return the topic ``name``, creating it (owned by ``user``) if ``user`` may create topics."""
    error = topic_name_error(name)
    if error:
        return None, error
    topic = Topic.objects.select_related("source_topic").filter(name=name).first()
    if topic is not None:
        return topic, None
    if not may_create_topics(user):
        return (
            None,
            f"topic {name!r} does not exist and {describe_user(user)} may not create topics",
        )
    owner = user if user.is_authenticated else None
    try:
        with transaction.atomic():
            topic = Topic.objects.create(name=name, owner=owner, last_used=timezone.now())
    except IntegrityError:  # created concurrently by another connection
        topic = Topic.objects.get(name=name)
    return topic, None


def produce_refusal(user: Any, name: str) -> str | None:
    """None if ``user`` may produce to topic ``name`` (creating it if allowed), else why not."""
    topic, error = get_or_create_topic(user, name)
    if topic is None:
        return error
    if may_produce_topic(user, topic):
        return None
    return f"{describe_user(user)} may not produce to topic {name!r}"


def _public_source_for(name: str) -> Topic | None:
    """The public topic ``name`` looks like a response topic of (``<source>_<random>``)."""
    prefixes = [name[:i] for i, char in enumerate(name) if char == "_" and i > 0]
    if not prefixes:
        return None
    candidates = Topic.objects.filter(name__in=prefixes, is_public=True, is_response_topic=False)
    return candidates.order_by("-name").first()


def _anonymous_response_topic(name: str) -> Topic | None:
    """Secure mode: let anonymous callers of a public topic subscribe to their response topic.

    Clients subscribe before their first request names the response topic, so the topic is
    created here, already as a response topic (it is never an ordinary topic anonymous owns).
    """
    if topic_name_error(name) or Topic.objects.filter(name=name).exists():
        return None
    source = _public_source_for(name)
    if source is None:
        return None
    topic, _ = Topic.objects.get_or_create(
        name=name,
        defaults={"is_response_topic": True, "source_topic": source, "last_used": timezone.now()},
    )
    return topic


def consume_refusal(user: Any, name: str) -> str | None:
    """None if ``user`` may consume topic ``name`` (creating it if allowed), else why not."""
    if is_secure() and not user.is_authenticated:
        topic = _anonymous_response_topic(name)
        if topic is not None:
            return None if may_consume_topic(user, topic) else _consume_refused(user, name)
    topic, error = get_or_create_topic(user, name)
    if topic is None:
        return error
    if may_consume_topic(user, topic):
        return None
    return _consume_refused(user, name)


def _consume_refused(user: Any, name: str) -> str:
    return f"{describe_user(user)} may not consume topic {name!r}"


def response_topic_refusal(user: Any, source_name: str, response_name: str) -> str | None:
    """Create or claim ``response_name`` as ``user``'s response topic for ``source_name``."""
    error = topic_name_error(response_name)
    if error:
        return f"response topic: {error}"
    source = Topic.objects.filter(name=source_name).first()
    if source is None:
        return f"source topic {source_name!r} does not exist"
    if response_name == source_name:
        return "a topic cannot be its own response topic"
    owner = user if user.is_authenticated else None
    with transaction.atomic():
        topic, created = Topic.objects.select_for_update().get_or_create(
            name=response_name,
            defaults={
                "owner": owner,
                "is_response_topic": True,
                "source_topic": source,
                "last_used": timezone.now(),
            },
        )
        if created:
            return None
        if topic.owner_id != (owner.pk if owner else None):
            return (
                f"response topic {response_name!r} belongs to someone else; "
                f"{describe_user(user)} may not use it"
            )
        if not topic.is_response_topic:
            # the requester usually subscribes before its first request, which created the
            # topic as an ordinary one: turn it into the response topic now
            Topic.objects.filter(pk=topic.pk).update(is_response_topic=True, source_topic=source)
        elif topic.source_topic_id != source.pk and owner is not None:
            _let_consumers_produce(source, topic)
    return None


def _let_consumers_produce(source: Topic, response: Topic) -> None:
    """A response topic shared by several sources: its extra backends get produce rows."""
    consumers = set(
        TopicPermission.objects.filter(topic=source, can_consume=True).values_list(
            "user_id", flat=True
        )
    )
    if source.owner_id is not None:
        consumers.add(source.owner_id)
    for user_id in consumers:
        TopicPermission.objects.update_or_create(
            topic=response, user_id=user_id, defaults={"can_produce": True}
        )


class TopicAccess:
    """Permission checks of one connection's user; results cached per connection."""

    def __init__(self, user: Any) -> None:
        self.user = user
        # (action, topic...) -> (refusal or None, expiry monotonic time or None = forever)
        self._cache: dict[tuple[str, ...], tuple[str | None, float | None]] = {}

    async def check_produce(self, topic: str) -> str | None:
        """None if the user may produce to ``topic`` (created if allowed), else a refusal."""
        return await self._decide(("produce", topic), produce_refusal, topic)

    async def check_consume(self, topic: str) -> str | None:
        """None if the user may consume ``topic`` (created if allowed), else a refusal."""
        return await self._decide(("consume", topic), consume_refusal, topic)

    async def register_response_topic(self, source_topic: str, response_topic: str) -> str | None:
        """Create or claim the user's response topic for requests to ``source_topic``."""
        return await self._decide(
            ("response", source_topic, response_topic),
            response_topic_refusal,
            source_topic,
            response_topic,
        )

    async def _decide(self, key: tuple[str, ...], rule: Any, *args: str) -> str | None:
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and (cached[1] is None or cached[1] > now):
            return cached[0]
        refusal = await database_sync_to_async(rule)(self.user, *args)
        # refusals may be lifted by an admin, grants revoked: neither is cached for long
        expiry = now + (GRANT_CACHE_SECONDS if refusal is None else REFUSAL_CACHE_SECONDS)
        if len(self._cache) >= MAX_CACHED_DECISIONS:
            self._cache.clear()
        self._cache[key] = (refusal, expiry)
        return refusal
