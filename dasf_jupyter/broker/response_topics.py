"""How response topics are named and recognised.

Every DASF client names its response topic after the request topic: ``<topic>_<random>``
(demessaging: 8 letters; our Python client: 16 letters/digits after at most 183 characters
of the topic; our TypeScript client: 12 hex digits). The broker accepts a request's
``response_topic`` only if it is named that way, so a request can never point at an
unrelated topic.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import Topic

#: our Python client keeps at most this many characters of the topic (names are <= 200)
CLIENT_TOPIC_PREFIX_LENGTH = 183
#: a topic a caller subscribed to before its request topic existed may become that caller's
#: response topic for this long (the first request follows the subscription at once);
#: setting DASF_RESPONSE_TOPIC_CLAIM_WINDOW
DEFAULT_CLAIM_WINDOW = 60.0


def derives_from(response_name: str, source_name: str) -> bool:
    """Whether ``response_name`` is ``<source_name>_<suffix>`` (suffix non-empty)."""
    prefixes = {source_name[:CLIENT_TOPIC_PREFIX_LENGTH] + "_", source_name + "_"}
    return any(
        response_name.startswith(prefix) and len(response_name) > len(prefix)
        for prefix in prefixes
    )


def naming_refusal(source_name: str, response_name: str) -> str | None:
    """None if ``response_name`` is named like a response topic of ``source_name``."""
    if derives_from(response_name, source_name):
        return None
    return (
        f"response topic {response_name!r} must be named after the request topic: "
        f"'{source_name}_<random suffix>'"
    )


def source_candidates(name: str) -> list[str]:
    """Topic names ``name`` could be a response topic of, longest first."""
    return [name[:i] for i in range(len(name) - 1, 0, -1) if name[i] == "_"]


def existing_source(name: str, public_only: bool = False) -> Topic | None:
    """The longest existing ordinary topic that ``name`` is ``<topic>_<suffix>`` of."""
    candidates = Topic.objects.filter(name__in=source_candidates(name), is_response_topic=False)
    if public_only:
        candidates = candidates.filter(is_public=True)
    return candidates.order_by("-name").first()


def claim_deadline() -> datetime:
    """``claimable_until`` for a topic a subscription creates now."""
    window = float(getattr(settings, "DASF_RESPONSE_TOPIC_CLAIM_WINDOW", DEFAULT_CLAIM_WINDOW))
    return timezone.now() + timedelta(seconds=window)
