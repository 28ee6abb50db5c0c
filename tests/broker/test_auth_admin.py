"""Django admin: token creation shows the key once, revoke action, topic list."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.core import checks
from django.urls import path

from dasf_jupyter.broker.auth import user_for_key
from dasf_jupyter.broker.models import ApiToken, Topic

urlpatterns = [path("admin/", admin.site.urls)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def root_client(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(root)
    return client, root


def test_admin_passes_django_system_checks():
    errors = [e for e in checks.run_checks() if e.level >= checks.ERROR]
    assert errors == []


def test_creating_a_token_in_the_admin_shows_a_working_key_once(root_client):
    client, root = root_client
    response = client.post(
        "/admin/dasfbroker/apitoken/add/", {"user": root.pk, "name": "web"}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    match = re.search(r"not shown again\): (\S+)", " ".join(shown))
    assert match, shown
    key = match.group(1)
    assert user_for_key(key) == root
    token = ApiToken.objects.get()
    assert token.name == "web" and key not in token.key_hash
    # the change page never shows the key
    page = client.get(f"/admin/dasfbroker/apitoken/{token.pk}/change/").content.decode()
    assert key not in page


def test_revoke_action_revokes_selected_tokens(root_client):
    client, root = root_client
    token, _ = ApiToken.create_for(root)
    response = client.post(
        "/admin/dasfbroker/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked


def test_topic_changelist_lists_and_searches_topics(root_client):
    client, _ = root_client
    Topic.objects.create(name="alpha-module", is_public=True)
    Topic.objects.create(name="beta-module")
    page = client.get("/admin/dasfbroker/topic/?q=alpha").content.decode()
    assert "alpha-module" in page and "beta-module" not in page
    assert client.get("/admin/dasfbroker/topic/add/").status_code == 200
