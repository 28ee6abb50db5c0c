"""Token authentication: header and query parsing, lookups, refusals."""

from __future__ import annotations

import asyncio

import pytest
from django.contrib.auth.models import User

from dasf_jupyter.broker.auth import (
    AuthRefused,
    authenticate,
    find_token_key,
    token_from_authorization,
    token_from_query,
)
from dasf_jupyter.broker.models import ApiToken, hash_token_key


def scope(headers: dict[str, str] | None = None, query: str = "") -> dict:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return {"type": "websocket", "headers": raw, "query_string": query.encode()}


@pytest.mark.parametrize("value", ["Token abc", "Bearer abc", "token  abc ", "BEARER abc"])
def test_authorization_header_accepts_token_and_bearer(value):
    assert token_from_authorization(value) == "abc"


@pytest.mark.parametrize("value", ["Basic dXNlcjpwdw==", "abc", "Token ", ""])
def test_authorization_header_with_other_scheme_or_no_key_is_refused(value):
    with pytest.raises(AuthRefused) as info:
        token_from_authorization(value)
    assert "Authorization" in info.value.reason or "token" in info.value.reason


def test_query_token_is_found_among_other_parameters():
    assert token_from_query(b"a=1&token=k%2By&b=2") == "k+y"
    assert token_from_query("a=1") is None
    with pytest.raises(AuthRefused):
        token_from_query("token=")


def test_header_wins_over_query():
    headers = [(b"Authorization", b"Token fromheader")]
    assert find_token_key(headers, b"token=fromquery") == "fromheader"
    assert find_token_key([], b"token=fromquery") == "fromquery"
    assert find_token_key([], b"") is None


def test_token_key_is_stored_hashed_and_unique():
    assert len(hash_token_key("x")) == 64
    assert hash_token_key("x") != hash_token_key("y")


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.mark.django_db(transaction=True)
def test_valid_token_in_header_or_query_authenticates_its_user(alice):
    token, key = ApiToken.create_for(alice, name="laptop")
    assert token.key_hash == hash_token_key(key) and key not in token.key_hash
    for sc in (
        scope({"Authorization": f"Token {key}"}),
        scope({"Authorization": f"Bearer {key}"}),
        scope(query=f"token={key}"),
    ):
        user = asyncio.run(authenticate(sc))
        assert user.pk == alice.pk
    token.refresh_from_db()
    assert token.last_used is not None


@pytest.mark.django_db(transaction=True)
def test_no_token_gives_anonymous_user():
    user = asyncio.run(authenticate(scope()))
    assert not user.is_authenticated


@pytest.mark.django_db(transaction=True)
def test_unknown_token_is_refused_not_downgraded(alice):
    ApiToken.create_for(alice)
    for sc in (scope({"Authorization": "Token wrong"}), scope(query="token=wrong")):
        with pytest.raises(AuthRefused, match="unknown or revoked token"):
            asyncio.run(authenticate(sc))


@pytest.mark.django_db(transaction=True)
def test_revoked_token_is_refused(alice):
    token, key = ApiToken.create_for(alice)
    token.revoked = True
    token.save()
    with pytest.raises(AuthRefused, match="unknown or revoked token"):
        asyncio.run(authenticate(scope({"Authorization": f"Token {key}"})))


@pytest.mark.django_db(transaction=True)
def test_token_of_inactive_user_is_refused(alice):
    _, key = ApiToken.create_for(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    with pytest.raises(AuthRefused, match="inactive"):
        asyncio.run(authenticate(scope({"Authorization": f"Token {key}"})))


@pytest.mark.django_db(transaction=True)
def test_overlong_token_is_refused_without_error():
    with pytest.raises(AuthRefused):
        asyncio.run(authenticate(scope(query="token=" + "a" * 10_000)))
