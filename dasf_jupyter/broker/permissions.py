"""Who may produce to, consume from and view which topic; cached per connection."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Topic, TopicPermission, topic_name_error
from .quotas import CreationQuota
from .response_topics import claim_deadline, existing_source, naming_refusal, source_candidates

#: an access rule: may this user do it on this topic
Rule = Callable[[Any, Topic], bool]

# a refused connection may retry; re-check the DB after this many seconds, not per message
REFUSAL_CACHE_SECONDS = 5.0
# a revoked right must not outlive its revocation by more than this on an open connection
GRANT_CACHE_SECONDS = 2.0
# a connection naming ever new response topics must not grow memory without bound
MAX_CACHED_DECISIONS = 10_000


def is_secure() -> bool:
    """Whether the broker runs in secure mode (tokens and permissions enforced)."""
    return bool(getattr(settings, "DASF_BROKER_SECURE", False))


#: what a caller without a token on a secure broker is told, whatever it tried
TOKEN_REQUIRED = "this broker requires a token (see `dasf-broker manage dasf_token create`)"


def describe_user(user: Any) -> str:
    """Name a user for refusal texts."""
    if user is None or not user.is_authenticated:
        return "anonymous user"
    return f"user {user.get_username()!r}"


def _anonymous_in_secure_mode(user: Any) -> bool:
    return is_secure() and not user.is_authenticated


def _refused(user: Any, action: str, name: str) -> str:
    """The refusal of ``action`` ("produce to", "consume") on topic ``name``."""
    if _anonymous_in_secure_mode(user):
        return (
            f"{TOKEN_REQUIRED}; anonymous callers may only call public topics "
            f"(refused: {action} topic {name!r})"
        )
    return f"{describe_user(user)} may not {action} topic {name!r}"


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


def _created_by(user: Any, topic: Topic) -> bool:
    """Whether ``user`` created ``topic``; a missing owner matches nobody, anonymous included."""
    if user.is_authenticated:
        return topic.owner_id is not None and topic.owner_id == user.pk
    return topic.owner_id is None and topic.owned_by_anonymous


def _is_owner(user: Any, topic: Topic) -> bool:
    """Owner rights; anonymous callers own only the response topics they created."""
    if not user.is_authenticated and not topic.is_response_topic:
        return False
    return _created_by(user, topic)


def _owned_by_anonymous(topic: Topic) -> bool:
    return topic.owner_id is None and topic.owned_by_anonymous


def _is_superuser(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_superuser)


def _superuser_may(rule: Rule) -> Rule:
    """``rule``, except that a superuser may do everything."""

    @functools.wraps(rule)
    def checked(user: Any, topic: Topic) -> bool:
        return _is_superuser(user) or rule(user, topic)

    return checked


@_superuser_may
def may_consume_topic(user: Any, topic: Topic) -> bool:
    """Consume rule for an existing topic."""
    if topic.is_response_topic:
        if _owned_by_anonymous(topic):
            # anonymous requesters: anywhere in open mode, of public topics in secure mode;
            # the random name is the capability
            source = topic.source_topic
            return not is_secure() or (source is not None and source.is_public)
        return _is_owner(user, topic)
    if not is_secure():
        return True
    return _is_owner(user, topic) or _grant(user, topic, "consume")


@_superuser_may
def may_produce_topic(user: Any, topic: Topic) -> bool:
    """Produce rule for an existing topic."""
    if topic.is_response_topic:
        source = topic.source_topic
        if source is not None and may_consume_topic(user, source):
            return True
        return _grant(user, topic, "produce")
    if not is_secure() or topic.is_public:
        return True
    return _is_owner(user, topic) or _grant(user, topic, "produce")


@_superuser_may
def may_view_topic(user: Any, topic: Topic) -> bool:
    """View rule (discovery API); response topics are private to their owner."""
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
    if not is_secure() or _is_superuser(user):
        return topics
    visible = Q(is_public=True)
    if user.is_authenticated:
        rights = Q(can_view=True) | Q(can_produce=True) | Q(can_consume=True)
        granted = TopicPermission.objects.filter(rights, user=user).values("topic_id")
        visible |= Q(owner=user) | Q(pk__in=granted)
    return topics.filter(visible)


def _ownership(user: Any) -> dict[str, Any]:
    """Owner fields of a topic ``user`` creates."""
    if user.is_authenticated:
        return {"owner": user, "owned_by_anonymous": False}
    return {"owner": None, "owned_by_anonymous": True}


def _create(
    user: Any, name: str, quota: CreationQuota | None, **fields: Any
) -> tuple[Topic | None, str | None]:
    """Create topic ``name`` for ``user`` within its quota; the existing one if raced."""
    quota = quota or CreationQuota(user)
    refusal = quota.refusal(name)
    if refusal:
        return None, refusal
    try:
        with transaction.atomic():
            topic = Topic.objects.create(
                name=name, last_used=timezone.now(), **_ownership(user), **fields
            )
    except IntegrityError:  # created concurrently by another connection
        return Topic.objects.select_related("source_topic").get(name=name), None
    quota.count()
    return topic, None


def _existing(name: str) -> Topic | None:
    return Topic.objects.select_related("source_topic").filter(name=name).first()


def get_or_create_topic(
    user: Any, name: str, quota: CreationQuota | None = None, *, claimable: bool = False
) -> tuple[Topic | None, str | None]:
    """Return the topic ``name``, creating it (owned by ``user``) if ``user`` may create topics.

    ``claimable``: created by a subscription before its request topic exists; the creator's
    first request may turn it into its response topic within the claim window.
    """
    error = topic_name_error(name)
    if error:
        return None, error
    topic = _existing(name)
    if topic is not None:
        return topic, None
    if not may_create_topics(user):  # anonymous on a secure broker
        return None, _refused(user, "create", name)
    deadline = claim_deadline() if claimable and source_candidates(name) else None
    return _create(user, name, quota, claimable_until=deadline)


def _verdict(user: Any, topic: Topic, rule: Rule, action: str) -> str | None:
    """None if ``rule`` lets ``user`` do ``action`` on ``topic``, else why not."""
    return None if rule(user, topic) else _refused(user, action, topic.name)


def produce_refusal(user: Any, name: str, quota: CreationQuota | None = None) -> str | None:
    """None if ``user`` may produce to topic ``name`` (creating it if allowed), else why not."""
    topic, error = get_or_create_topic(user, name, quota)
    if topic is None:
        return error
    return _verdict(user, topic, may_produce_topic, "produce to")


def _subscribed_topic(
    user: Any, name: str, quota: CreationQuota | None
) -> tuple[Topic | None, str | None]:
    """Create the topic a subscription names: ``<existing topic>_<suffix>`` is a response topic.

    Clients subscribe before their first request names the response topic, so it is created
    here, already as a response topic owned by the subscriber (anonymous included); it is
    never an ordinary topic that a request would have to convert.
    """
    anonymous_secure = _anonymous_in_secure_mode(user)
    source = existing_source(name, public_only=anonymous_secure)
    if source is None:
        return get_or_create_topic(user, name, quota, claimable=True)
    return _create(user, name, quota, is_response_topic=True, source_topic=source)


def consume_refusal(user: Any, name: str, quota: CreationQuota | None = None) -> str | None:
    """None if ``user`` may consume topic ``name`` (creating it if allowed), else why not."""
    error = topic_name_error(name)
    if error:
        return error
    topic = _existing(name)
    if topic is None:
        topic, error = _subscribed_topic(user, name, quota)
        if topic is None:
            return error
    return _verdict(user, topic, may_consume_topic, "consume")


def response_topic_refusal(
    user: Any, source_name: str, response_name: str, quota: CreationQuota | None = None
) -> str | None:
    """Create, or check that ``user`` owns, the response topic ``response_name``.

    It must be named ``<source_name>_<suffix>``; an existing ordinary topic is never turned
    into a response topic (except one its creator subscribed to moments before, see
    :data:`~.response_topics.DEFAULT_CLAIM_WINDOW`).
    """
    error = topic_name_error(response_name)
    if error:
        return f"response topic: {error}"
    source = Topic.objects.filter(name=source_name).first()
    if source is None:
        return f"source topic {source_name!r} does not exist"
    refusal = naming_refusal(source_name, response_name)
    if refusal:
        return refusal
    topic = _existing(response_name)
    if topic is None:
        topic, error = _create(
            user, response_name, quota, is_response_topic=True, source_topic=source
        )
        if topic is None:
            return error
    return _reuse_refusal(user, topic, source)


def _reuse_refusal(user: Any, topic: Topic, source: Topic) -> str | None:
    """None if the existing ``topic`` is (or may become) ``user``'s response topic."""
    name = topic.name
    not_a_response_topic = (
        f"topic {name!r} exists and is not a response topic; a request cannot make it one "
        f"(use a new '{source.name}_<random suffix>')"
    )
    # a topic whose consumer answered the broker's api_info probe is a module, not a reply topic
    claimable = (
        topic.claimable_until is not None
        and topic.claimable_until > timezone.now()
        and topic.api_info is None
    )
    if not topic.is_response_topic and not claimable:
        return not_a_response_topic
    if not _created_by(user, topic):
        return (
            f"response topic {name!r} belongs to someone else; "
            f"{describe_user(user)} may not use it"
        )
    if topic.is_response_topic:
        if topic.source_topic_id != source.pk:
            Topic.objects.filter(pk=topic.pk).update(source_topic=source)
        return None
    claimed = Topic.objects.filter(
        pk=topic.pk,
        is_response_topic=False,
        claimable_until__gt=timezone.now(),
        api_info__isnull=True,
    ).update(is_response_topic=True, source_topic=source, claimable_until=None)
    return None if claimed else not_a_response_topic


class TopicAccess:
    """Permission checks of one connection's user; results cached per connection."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.quota = CreationQuota(user)  # topics this connection may still create
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
        refusal = await database_sync_to_async(rule)(self.user, *args, quota=self.quota)
        # refusals may be lifted by an admin, grants revoked: neither is cached for long
        expiry = now + (GRANT_CACHE_SECONDS if refusal is None else REFUSAL_CACHE_SECONDS)
        if len(self._cache) >= MAX_CACHED_DECISIONS:
            self._cache.clear()
        self._cache[key] = (refusal, expiry)
        return refusal
