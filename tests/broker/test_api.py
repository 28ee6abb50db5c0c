"""Discovery API views through Django's test client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import include, path
from django.utils import timezone

from dasf_jupyter.broker.models import ApiToken, Topic, TopicPermission

# this module doubles as the URLconf, so the tests do not depend on the broker's urls.py
urlpatterns = [path("api/", include("dasf_jupyter.broker.api"))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

API_INFO = {
    "functions": [{"name": "add", "rpc_schema": {}, "return_schema": {}}, {"bad": 1}],
    "classes": [{"name": "Greeter", "rpc_schema": {}, "methods": []}],
    "rpc_schema": {},
}


@pytest.fixture
def alice_key(django_user_model):
    alice = django_user_model.objects.create_user("alice")
    return alice, ApiToken.create_for(alice)[1]


def test_open_mode_lists_topics_with_online_state_and_member_names(client, open_mode):
    now = timezone.now()
    Topic.objects.create(
        name="mod", description="d", api_info=API_INFO, last_ping=now, last_pong=now
    )
    Topic.objects.create(name="old", last_pong=now - timedelta(seconds=91))
    Topic.objects.create(name="mod_resp", is_response_topic=True)
    response = client.get("/api/topics/")
    assert response.status_code == 200
    topics = {t["name"]: t for t in response.json()}
    assert set(topics) == {"mod", "old"}
    mod = topics["mod"]
    assert mod["online"] is True and mod["description"] == "d"
    assert mod["functions"] == ["add"] and mod["classes"] == ["Greeter"]
    assert mod["api_info"] == API_INFO and mod["last_pong"] == now.isoformat()
    assert topics["old"]["online"] is False and topics["old"]["functions"] == []
    assert [t["name"] for t in client.get("/api/topics/?online=true").json()] == ["mod"]
    assert set(mod) == {
        "name",
        "description",
        "is_public",
        "online",
        "last_ping",
        "last_pong",
        "api_info",
        "functions",
        "classes",
        "consumers",
        "subscriptions",
    }
    # no broker runtime in this process: the counts are unknown, not zero
    assert (mod["consumers"], mod["subscriptions"]) == (None, None)


def test_detail_returns_one_topic_and_404_json_for_unknown(client, open_mode):
    Topic.objects.create(name="mod.v1")
    assert client.get("/api/topics/mod.v1/").json()["name"] == "mod.v1"
    assert client.get("/api/topics/mod.v1").status_code == 200  # slash optional
    for missing in ("nope", "bad..name"):
        response = client.get(f"/api/topics/{missing}/")
        assert response.status_code == 404
        assert "not found" in response.json()["detail"]


def test_response_topics_are_not_exposed(client, open_mode):
    Topic.objects.create(name="mod_resp", is_response_topic=True)
    assert client.get("/api/topics/mod_resp/").status_code == 404


def test_secure_mode_filters_by_token_user(client, secure_mode, alice_key, django_user_model):
    alice, key = alice_key
    bob = django_user_model.objects.create_user("bob")
    Topic.objects.create(name="pub", is_public=True)
    Topic.objects.create(name="a-mod", owner=alice)
    Topic.objects.create(name="b-mod", owner=bob)
    granted = Topic.objects.create(name="b-shared", owner=bob)
    TopicPermission.objects.create(topic=granted, user=alice, can_view=True)

    def names(**kwargs):
        return {t["name"] for t in client.get("/api/topics/", **kwargs).json()}

    assert names() == {"pub"}
    assert names(HTTP_AUTHORIZATION=f"Token {key}") == {"pub", "a-mod", "b-shared"}
    assert names(HTTP_AUTHORIZATION=f"Bearer {key}") == {"pub", "a-mod", "b-shared"}
    assert {t["name"] for t in client.get(f"/api/topics/?token={key}").json()} == {
        "pub",
        "a-mod",
        "b-shared",
    }
    assert client.get("/api/topics/b-mod/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 404
    assert (
        client.get("/api/topics/b-shared/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    )


def test_bad_or_revoked_token_gets_401_with_reason(client, secure_mode, alice_key):
    alice, key = alice_key
    Topic.objects.create(name="pub", is_public=True)
    response = client.get("/api/topics/", HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401
    assert response.json() == {"detail": "unknown or revoked token"}
    assert response["WWW-Authenticate"] == "Token"
    ApiToken.objects.filter(user=alice).update(revoked=True)
    assert client.get(f"/api/topics/pub/?token={key}").status_code == 401


def test_session_user_of_the_admin_is_accepted(client, secure_mode, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw")
    Topic.objects.create(name="secret")
    client.force_login(root)
    assert [t["name"] for t in client.get("/api/topics/").json()] == ["secret"]


def test_only_get_is_allowed(client, open_mode):
    response = client.post("/api/topics/")
    assert response.status_code == 405 and "GET" in response.json()["detail"]


def test_openapi_document_describes_the_endpoints(client):
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/topics/", "/topics/{name}/"}
    assert doc["servers"] == [{"url": "/api"}]
    topic_schema = doc["components"]["schemas"]["Topic"]
    assert "online" in topic_schema["required"] and "api_info" in topic_schema["properties"]
