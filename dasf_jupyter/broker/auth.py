"""Token authentication of websocket connections and API requests."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from ..errors import DasfError
from .models import ApiToken, hash_token_key

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TOKEN_SCHEMES = ("token", "bearer")
# last_used is for humans and garbage collection; avoid a DB write per connection burst
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_KEY_LENGTH = 512


class AuthRefused(DasfError):
    """A presented token is not acceptable; ``reason`` says why, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_from_authorization(value: str) -> str:
    """Extract the key of an ``Authorization: Token|Bearer <key>`` header value."""
    scheme, _, key = value.strip().partition(" ")
    if scheme.lower() not in TOKEN_SCHEMES:
        # the scheme is not echoed: a key sent without a scheme would land in logs and replies
        raise AuthRefused(
            "unsupported Authorization scheme; use 'Authorization: Token <key>' or 'Bearer <key>'"
        )
    key = key.strip()
    if not key:
        raise AuthRefused("empty token in Authorization header")
    return key


def token_from_query(query_string: bytes | str) -> str | None:
    """Return the ``token`` query parameter, or None if absent."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    values = parse_qs(query_string, keep_blank_values=True).get("token")
    if not values:
        return None
    if not values[0]:
        raise AuthRefused("empty token query parameter")
    return values[0]


def find_token_key(
    headers: Iterable[tuple[bytes, bytes]], query_string: bytes | str
) -> str | None:
    """Return the token key of a request (header wins over query), or None if none is given."""
    for name, value in headers:
        if name.lower() == b"authorization":
            return token_from_authorization(value.decode("latin-1"))
    return token_from_query(query_string)


def user_for_key(key: str) -> User:
    """Return the active user owning ``key``; raise AuthRefused otherwise (sync, hits the DB)."""
    if len(key) > MAX_KEY_LENGTH:
        raise AuthRefused("unknown or revoked token")
    key_hash = hash_token_key(key)
    token = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
    # the lookup is by hash already; the constant-time compare is belt and braces
    if token is None or token.revoked or not hmac.compare_digest(token.key_hash, key_hash):
        raise AuthRefused("unknown or revoked token")
    if not token.user.is_active:
        raise AuthRefused(f"user {token.user.get_username()!r} is inactive")
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user


def authenticate_key(key: str | None) -> User | AnonymousUser:
    """Return the user of ``key``, AnonymousUser for no key; raise AuthRefused for bad keys."""
    if key is None:
        return AnonymousUser()
    return user_for_key(key)


def authenticate_sync(headers: Iterable[tuple[bytes, bytes]], query_string: bytes | str):
    """Authenticate from raw headers and query string (sync; for Django views)."""
    return authenticate_key(find_token_key(headers, query_string))


async def authenticate(scope: dict) -> User | AnonymousUser:
    """Return the user of an ASGI connection scope; raise AuthRefused for a bad token."""
    key = find_token_key(scope.get("headers") or (), scope.get("query_string") or b"")
    if key is None:
        return AnonymousUser()
    return await database_sync_to_async(user_for_key)(key)
