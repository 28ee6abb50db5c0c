"""Management commands for users, tokens, topics and grants."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from dasf_jupyter.broker.auth import AuthRefused, authenticate_key, user_for_key
from dasf_jupyter.broker.models import ApiToken, Topic, TopicPermission

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_user_create_and_list():
    assert "created user 'alice'" in run("dasf_user", "create", "alice")
    run("dasf_user", "create", "root", "--superuser", "--password", "s3cret-pw")
    assert User.objects.get(username="root").is_superuser
    assert User.objects.get(username="root").check_password("s3cret-pw")
    assert not User.objects.get(username="alice").has_usable_password()
    assert run("dasf_user", "list").splitlines() == ["alice", "root (superuser)"]
    with pytest.raises(CommandError, match="already exists"):
        run("dasf_user", "create", "alice")


def test_token_create_prints_a_working_key_and_revoke_by_key_or_id():
    run("dasf_user", "create", "alice")
    key = run("dasf_token", "create", "alice", "--name", "laptop").strip()
    assert user_for_key(key).username == "alice"
    listing = run("dasf_token", "list", "alice")
    assert "laptop" in listing and "active" in listing and key not in listing
    assert "revoked token" in run("dasf_token", "revoke", key)
    with pytest.raises(AuthRefused):
        authenticate_key(key)
    second = run("dasf_token", "create", "alice").strip()
    token_id = ApiToken.objects.get(revoked=False).pk
    run("dasf_token", "revoke", str(token_id))
    with pytest.raises(AuthRefused):
        user_for_key(second)
    assert run("dasf_token", "list").count("revoked") == 2


def test_unknown_user_or_token_gives_command_error():
    with pytest.raises(CommandError, match="unknown user 'ghost'"):
        run("dasf_token", "create", "ghost")
    with pytest.raises(CommandError, match="no token"):
        run("dasf_token", "revoke", "nonsense")


def test_topic_create_list_delete():
    run("dasf_user", "create", "alice")
    run("dasf_topic", "create", "mod", "--public", "--description", "adds", "--owner", "alice")
    topic = Topic.objects.get(name="mod")
    assert topic.is_public and topic.description == "adds" and topic.owner.username == "alice"
    Topic.objects.create(name="mod_r", is_response_topic=True, source_topic=topic)
    listing = run("dasf_topic", "list")
    assert "mod\towner alice\tpublic" in listing and "mod_r" not in listing
    assert "mod_r" in run("dasf_topic", "list", "--all")
    run("dasf_topic", "delete", "mod")
    assert not Topic.objects.exists()  # response topics go with their source


def test_topic_commands_reject_bad_names_and_unknown_topics():
    with pytest.raises(CommandError, match="invalid topic name"):
        run("dasf_topic", "create", "../etc")
    with pytest.raises(CommandError, match="unknown topic 'nope'"):
        run("dasf_topic", "delete", "nope")
    run("dasf_topic", "create", "mod")
    with pytest.raises(CommandError, match="already exists"):
        run("dasf_topic", "create", "mod")
    with pytest.raises(CommandError, match="unknown user"):
        run("dasf_topic", "create", "other", "--owner", "ghost")


def test_grant_and_revoke_rights():
    run("dasf_user", "create", "bob")
    run("dasf_topic", "create", "mod")
    run("dasf_grant", "bob", "mod", "--produce")
    perm = TopicPermission.objects.get()
    assert (perm.can_produce, perm.can_consume, perm.can_view) == (True, False, False)
    run("dasf_grant", "bob", "mod")  # no flag: everything
    perm.refresh_from_db()
    assert perm.can_produce and perm.can_consume and perm.can_view
    run("dasf_revoke", "bob", "mod", "--consume")
    perm.refresh_from_db()
    assert perm.can_produce and not perm.can_consume and perm.can_view
    run("dasf_revoke", "bob", "mod")
    assert not TopicPermission.objects.exists()
    with pytest.raises(CommandError, match="unknown topic"):
        run("dasf_grant", "bob", "nope")
    with pytest.raises(CommandError, match="unknown user"):
        run("dasf_revoke", "ghost", "mod")


def test_models_and_migrations_agree():
    # a model change without a migration would break every deployed broker on upgrade
    call_command("makemigrations", "dasfbroker", "--check", "--dry-run", stdout=io.StringIO())


def test_gc_deletes_only_stale_response_topics():
    from datetime import timedelta

    from django.utils import timezone

    old = timezone.now() - timedelta(hours=30)
    source = Topic.objects.create(name="mod", last_used=old)
    Topic.objects.create(name="r-old", is_response_topic=True, source_topic=source, last_used=old)
    Topic.objects.create(name="r-new", is_response_topic=True, source_topic=source)
    assert "would delete 1" in run("dasf_gc", "--dry-run")
    assert Topic.objects.count() == 3
    assert "r-old" in run("dasf_gc", "--max-age-hours", "24")
    assert set(Topic.objects.values_list("name", flat=True)) == {"mod", "r-new"}
