"""Ownership and quota rules in-process (the attacks themselves run against real brokers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from dasf_jupyter.broker.models import Topic
from dasf_jupyter.broker.permissions import (
    consume_refusal,
    may_consume_topic,
    may_produce_topic,
    response_topic_refusal,
)
from dasf_jupyter.broker.quotas import CreationQuota, owned_topic_count
from dasf_jupyter.broker.response_topics import derives_from, source_candidates

pytestmark = pytest.mark.django_db

ANON = AnonymousUser()


def test_response_topic_names_derive_from_the_request_topic():
    assert derives_from("mod_abc", "mod") and derives_from("mod_a_b", "mod")
    assert not derives_from("mod_", "mod") and not derives_from("mod", "mod")
    assert not derives_from("modx_abc", "mod") and not derives_from("other_abc", "mod")
    assert source_candidates("a_b_c") == ["a_b", "a"]
    assert source_candidates("abc") == []


def test_a_missing_owner_matches_nobody(open_mode):
    orphan = Topic.objects.create(name="mod_orphan", is_response_topic=True)
    assert not may_consume_topic(ANON, orphan)
    Topic.objects.create(name="mod")
    refusal = response_topic_refusal(ANON, "mod", "mod_orphan")
    assert "belongs to someone else; anonymous user may not use it" in refusal


def test_subscribing_to_a_reply_topic_creates_it_as_the_subscribers(open_mode, django_user_model):
    alice = django_user_model.objects.create_user("alice")
    Topic.objects.create(name="mod")
    assert consume_refusal(ANON, "mod_anon") is None
    assert consume_refusal(alice, "mod_alice") is None
    anon, mine = Topic.objects.get(name="mod_anon"), Topic.objects.get(name="mod_alice")
    assert anon.is_response_topic and anon.owned_by_anonymous and anon.owner is None
    assert mine.is_response_topic and mine.owner == alice and not mine.owned_by_anonymous
    assert consume_refusal(ANON, "mod_alice") == "anonymous user may not consume topic 'mod_alice'"
    assert may_produce_topic(ANON, mine)  # open mode: whoever serves 'mod' answers
    assert response_topic_refusal(alice, "mod", "mod_anon").startswith("response topic")


def test_quota_counts_module_topics_and_recent_reply_topics(open_mode, settings):
    settings.DASF_TOPIC_QUOTA_ANONYMOUS = 2
    Topic.objects.create(name="mod", owned_by_anonymous=True)
    old = Topic.objects.create(name="mod_old", owned_by_anonymous=True, is_response_topic=True)
    Topic.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(hours=2))
    assert owned_topic_count(ANON) == 1
    quota = CreationQuota(ANON)
    assert consume_refusal(ANON, "mod_new", quota) is None
    assert owned_topic_count(ANON) == 2
    assert "DASF_TOPIC_QUOTA_ANONYMOUS=2" in consume_refusal(ANON, "mod_more", quota)
    assert quota.created == 1
