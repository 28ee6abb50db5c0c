"""Names on the wire: topics, subscriptions and response topics (the one set of rules).

Clients (URL builders), the broker (routes, models, permissions) and backend modules (reply
checks) all ask this module, so a name one of them accepts is accepted by all of them.

* topic: 1-200 characters ``[A-Za-z0-9][-_.A-Za-z0-9]*`` without ``..`` (a URL path segment
  and a database key; ASCII only, so it never needs quoting).
* subscription: 1-200 characters of ``-_.:+`` and word characters, as our broker has always
  enforced; it accepts every name dasf-broker-django routes (``[-.:\\w]+``) plus ``+`` of
  ISO timestamps. Clients quote it into the URL (non-ASCII, ``+``).
* response topic: ``<request topic>_<suffix>``; clients keep at most
  :data:`RESPONSE_TOPIC_PREFIX_LENGTH` characters of a long request topic.
"""

from __future__ import annotations

import re

from ..errors import InvalidName

TOPIC_MAX_LENGTH = 200
#: anchored for JSON schemas (the broker's OpenAPI document); Python code uses ``fullmatch``
TOPIC_PATTERN = re.compile(r"^[A-Za-z0-9][-_.A-Za-z0-9]*$")
SUBSCRIPTION_MAX_LENGTH = 200
SUBSCRIPTION_PATTERN = re.compile(r"^[-_.:+\w]+$")
#: our Python client keeps at most this many characters of the topic (names are <= 200)
RESPONSE_TOPIC_PREFIX_LENGTH = 183


def topic_name_error(name: object) -> str | None:
    """Why ``name`` cannot be a topic name, or None if it can."""
    if not isinstance(name, str) or not name:
        why = "must be a non-empty string"
    elif len(name) > TOPIC_MAX_LENGTH:
        why = f"longer than {TOPIC_MAX_LENGTH} characters"
    elif not TOPIC_PATTERN.fullmatch(name):
        why = "use letters, digits, '-', '_' and '.', starting with a letter or digit"
    elif ".." in name:
        why = "'..' is not allowed"
    else:
        return None
    return f"invalid topic name {name!r:.220}: {why}"


def subscription_name_error(name: object) -> str | None:
    """Why ``name`` cannot be a subscription name, or None if it can."""
    if not isinstance(name, str) or not name:
        why = "must be a non-empty string"
    elif len(name) > SUBSCRIPTION_MAX_LENGTH:
        why = f"longer than {SUBSCRIPTION_MAX_LENGTH} characters"
    elif not SUBSCRIPTION_PATTERN.fullmatch(name):
        why = "use letters, digits and -_.:+"
    else:
        return None
    return f"invalid subscription name {name!r:.220}: {why}"


def check_topic(name: str) -> str:
    """Return ``name`` if it is a valid topic name, else raise :class:`InvalidName`."""
    error = topic_name_error(name)
    if error:
        raise InvalidName(error)
    return name


def check_subscription(name: str) -> str:
    """Return ``name`` if it is a valid subscription name, else raise :class:`InvalidName`."""
    error = subscription_name_error(name)
    if error:
        raise InvalidName(error)
    return name


def response_topic_name(topic: str, suffix: str) -> str:
    """The response topic a client of ``topic`` names with a random ``suffix``."""
    return f"{topic[:RESPONSE_TOPIC_PREFIX_LENGTH]}_{suffix}"


def derives_from(response_name: str, source_name: str) -> bool:
    """Whether ``response_name`` is ``<source_name>_<suffix>`` (suffix non-empty)."""
    prefixes = {source_name[:RESPONSE_TOPIC_PREFIX_LENGTH] + "_", source_name + "_"}
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
