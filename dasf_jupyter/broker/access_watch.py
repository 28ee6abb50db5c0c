"""Re-checks the token and topic rights of open sockets; closes those that lost them.

Every ``DASF_ACCESS_RECHECK_INTERVAL`` seconds (default 2) each broker process asks the
database, in a few batched queries, whether the tokens of its open sockets still exist, are
not revoked and belong to active users, and whether each socket's user may still produce to
or consume its topic. A socket that lost its token is closed with code 4401, one that lost
its right with 4403, both with the reason. The database is the only source of truth, so this
works the same with one broker process or several sharing PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from ..transport.close_codes import CLOSE_RIGHT_REVOKED, CLOSE_TOKEN_REVOKED, close_reason
from .models import ApiToken, Topic, TopicPermission
from .permissions import (
    describe_user,
    is_secure,
    may_consume_topic,
    may_create_topics,
    may_produce_topic,
)
from .tasks import PeriodicTask, PeriodicWork

log = logging.getLogger(__name__)

_QUERY_CHUNK = 500


class Revocable(Protocol):
    """A socket the watch can close."""

    def revoke(self, code: int, reason: str) -> None:
        """Stop serving at once and close with ``code`` and ``reason``."""


@dataclass(frozen=True)
class Grant:
    """What one open socket was allowed at its handshake."""

    user_id: int | None
    key_hash: str | None
    action: str | None  # "produce", "consume", or None (status-ping: the token only)
    topic: str | None


def _token_refusals(hashes: set[str]) -> dict[str, str]:
    """Why each of ``hashes`` no longer authenticates (absent: it still does)."""
    found: dict[str, ApiToken] = {}
    ordered = sorted(hashes)
    for start in range(0, len(ordered), _QUERY_CHUNK):
        chunk = ordered[start : start + _QUERY_CHUNK]
        for token in ApiToken.objects.select_related("user").filter(key_hash__in=chunk):
            found[token.key_hash] = token
    refusals = {}
    for key_hash in hashes:
        token = found.get(key_hash)
        if token is None:
            refusals[key_hash] = "the token was deleted"
        elif token.revoked:
            refusals[key_hash] = "the token was revoked"
        elif not token.user.is_active:
            refusals[key_hash] = f"user {token.user.get_username()!r} was deactivated"
    return refusals


def right_refusal(user: Any, action: str, name: str) -> str | None:
    """None if ``user`` may still ``action`` topic ``name``, else why not (creates nothing)."""
    topic = Topic.objects.select_related("source_topic").filter(name=name).first()
    if topic is None:
        if may_create_topics(user):
            return None  # deleted; it is created again on the next use
        return f"topic {name!r} was deleted"
    allowed = may_produce_topic if action == "produce" else may_consume_topic
    if allowed(user, topic):
        return None
    return f"{describe_user(user)} may no longer {action} topic {name!r}"


RightKey = tuple[Any, str, str]  # (user id or None, action, topic name)
#: what a right was last decided on, and the decision (None = still allowed)
Decisions = dict[RightKey, tuple[Any, "str | None"]]


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    ordered = sorted(values, key=str)
    for start in range(0, len(ordered), _QUERY_CHUNK):
        yield ordered[start : start + _QUERY_CHUNK]


def _inputs(keys: set[RightKey], users: dict[Any, Any]) -> dict[RightKey, Any]:
    """Everything the produce/consume rules read, per right, in a few batched queries."""
    fields = (
        "id",
        "name",
        "owner_id",
        "is_public",
        "is_response_topic",
        "source_topic_id",
        "owned_by_anonymous",
    )
    topics = {}
    for chunk in _chunks({key[2] for key in keys}):
        for row in Topic.objects.filter(name__in=chunk).values_list(*fields):
            topics[row[1]] = row
    source_ids = {row[5] for row in topics.values() if row[5] is not None}
    sources = {}
    for chunk in _chunks(source_ids):
        for row in Topic.objects.filter(pk__in=chunk).values_list(*fields):
            sources[row[0]] = row
    topic_ids = {row[0] for row in topics.values()} | source_ids
    user_ids = [pk for pk in users if pk is not None]
    rights: dict[tuple[Any, Any], tuple[bool, bool, bool]] = {}
    if user_ids:
        for chunk in _chunks(topic_ids):
            rows = TopicPermission.objects.filter(topic_id__in=chunk, user_id__in=user_ids)
            for topic_id, user_id, *flags in rows.values_list(
                "topic_id", "user_id", "can_produce", "can_consume", "can_view"
            ):
                rights[(topic_id, user_id)] = tuple(flags)
    result = {}
    for key in keys:
        user_id, _, name = key
        user = users.get(user_id)
        topic = topics.get(name)
        source = sources.get(topic[5]) if topic is not None and topic[5] is not None else None
        result[key] = (
            is_secure(),
            None if user is None else (user.is_active, user.is_superuser),
            topic,
            source,
            None if topic is None else rights.get((topic[0], user_id)),
            None if source is None else rights.get((source[0], user_id)),
        )
    return result


def verdicts(
    grants: Iterable[Grant], decisions: Decisions | None = None
) -> dict[Grant, tuple[int, str]]:
    """Close code and reason for every grant that no longer holds (sync: hits the DB).

    ``decisions`` (kept by the caller between sweeps) remembers each right's inputs and
    verdict: a right is decided again, with the rules of ``permissions``, only when one of
    its inputs changed, so a sweep costs a few batched queries, not several per socket.
    """
    grants = set(grants)
    decisions = {} if decisions is None else decisions
    tokens = _token_refusals({g.key_hash for g in grants if g.key_hash})
    user_ids = {g.user_id for g in grants if g.user_id is not None}
    users: dict[Any, Any] = dict(get_user_model().objects.in_bulk(list(user_ids)))
    users[None] = AnonymousUser()
    keys = {
        (g.user_id, g.action, g.topic)
        for g in grants
        if g.action is not None and g.topic is not None and g.key_hash not in tokens
    }
    inputs = _inputs(keys, users)
    for key in set(decisions) - keys:  # sockets gone
        del decisions[key]
    result: dict[Grant, tuple[int, str]] = {}
    for grant in grants:
        if grant.key_hash in tokens:
            result[grant] = (CLOSE_TOKEN_REVOKED, tokens[grant.key_hash])
            continue
        if grant.action is None or grant.topic is None:
            continue
        user = users.get(grant.user_id)
        if user is None:
            result[grant] = (CLOSE_TOKEN_REVOKED, "the user was deleted")
            continue
        key = (grant.user_id, grant.action, grant.topic)
        known = decisions.get(key)
        if known is None or known[0] != inputs[key]:
            known = decisions[key] = (inputs[key], right_refusal(user, grant.action, grant.topic))
        if known[1] is not None:
            result[grant] = (CLOSE_RIGHT_REVOKED, known[1])
    return result


class AccessWatch(PeriodicWork):
    """The open sockets of this process and the rights they hold; re-checked periodically."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._sockets: dict[Revocable, Grant] = {}
        self._decisions: Decisions = {}
        # the database may be down for a moment: the next round tries again
        self.rounds = PeriodicTask(
            self.sweep, interval, "re-checking the rights of open sockets failed", logger=log
        )

    def add(
        self,
        socket: Revocable,
        user: Any,
        key_hash: str | None,
        action: str | None,
        topic: str | None,
    ) -> None:
        """Watch an accepted socket (anonymous sockets of an open broker need no watching)."""
        authenticated = bool(getattr(user, "is_authenticated", False))
        if not authenticated and not is_secure():
            return
        user_id = user.pk if authenticated else None
        self._sockets[socket] = Grant(user_id, key_hash, action, topic)

    def remove(self, socket: Revocable) -> None:
        self._sockets.pop(socket, None)

    def __len__(self) -> int:
        return len(self._sockets)

    async def sweep(self) -> int:
        """Re-check every watched socket now; return how many were closed."""
        if not self._sockets:
            return 0
        snapshot = dict(self._sockets)
        refused = await database_sync_to_async(verdicts)(snapshot.values(), self._decisions)
        closed = 0
        for socket, grant in snapshot.items():
            verdict = refused.get(grant)
            if verdict is None or self._sockets.pop(socket, None) is None:
                continue
            code, reason = verdict
            log.info("closing a socket on %s (%d): %s", grant.topic or "status-ping", code, reason)
            socket.revoke(code, close_reason(reason))
            closed += 1
        return closed
