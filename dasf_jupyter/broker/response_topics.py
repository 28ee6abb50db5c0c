"""How response topics are named and recognised.

Every DASF client names its response topic after the request topic: ``<topic>_<random>``
(demessaging: 8 letters; our Python client: 16 letters/digits after at most 183 characters
of the topic; our TypeScript client: 12 hex digits). The broker accepts a request's
``response_topic`` only if it is named that way, so a request can never point at an
unrelated topic. The naming rules live in :mod:`dasf_jupyter.protocol.names`; this module
adds what needs the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ..protocol.names import (
    RESPONSE_TOPIC_PREFIX_LENGTH,
    derives_from,
    naming_refusal,
    source_candidates,
)
from .models import Topic

__all__ = [
    "CLIENT_TOPIC_PREFIX_LENGTH",
    "DEFAULT_CLAIM_WINDOW",
    "claim_deadline",
    "derives_from",
    "existing_source",
    "naming_refusal",
    "source_candidates",
]

#: our Python client keeps at most this many characters of the topic (names are <= 200)
CLIENT_TOPIC_PREFIX_LENGTH = RESPONSE_TOPIC_PREFIX_LENGTH
#: a topic a caller subscribed to before its request topic existed may become that caller's
#: response topic for this long (the first request follows the subscription at once);
#: setting DASF_RESPONSE_TOPIC_CLAIM_WINDOW
DEFAULT_CLAIM_WINDOW = 60.0


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
