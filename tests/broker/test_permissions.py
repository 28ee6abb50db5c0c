"""Topic permission rules in open and secure mode, and the per-connection cache."""

from __future__ import annotations

import asyncio

import pytest
from django.contrib.auth.models import AnonymousUser

from dasf_jupyter.broker.models import Topic, TopicPermission
from dasf_jupyter.broker.permissions import (
    TopicAccess,
    consume_refusal,
    may_view_topic,
    produce_refusal,
    response_topic_refusal,
    visible_topics,
)

pytestmark = pytest.mark.django_db

ANON = AnonymousUser()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob")


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root")


def test_open_mode_lets_anonymous_create_produce_and_consume(open_mode):
    assert produce_refusal(ANON, "mod") is None
    assert consume_refusal(ANON, "mod") is None
    topic = Topic.objects.get(name="mod")
    assert topic.owner is None and not topic.is_response_topic
    assert may_view_topic(ANON, topic)


def test_open_mode_still_rejects_invalid_topic_names(open_mode):
    for bad in ("", "-x", "a/b", "a..b", "x" * 201, "ä"):
        assert "topic name" in produce_refusal(ANON, bad)
    assert not Topic.objects.exists()


def test_secure_mode_refuses_anonymous_topic_creation(secure_mode):
    refusal = produce_refusal(ANON, "mod")
    assert refusal == (
        "this broker requires a token (see `dasf-broker manage dasf_token create`); "
        "anonymous callers may only call public topics (refused: create topic 'mod')"
    )
    assert consume_refusal(ANON, "mod") is not None
    assert not Topic.objects.exists()


def test_secure_mode_creator_owns_topic_and_others_are_refused(secure_mode, alice, bob):
    assert consume_refusal(alice, "mod") is None
    assert Topic.objects.get(name="mod").owner == alice
    assert produce_refusal(alice, "mod") is None
    assert consume_refusal(bob, "mod") == "user 'bob' may not consume topic 'mod'"
    assert produce_refusal(bob, "mod") == "user 'bob' may not produce to topic 'mod'"
    assert produce_refusal(ANON, "mod").startswith("this broker requires a token")
    assert "(refused: produce to topic 'mod')" in produce_refusal(ANON, "mod")


def test_secure_mode_grants_open_exactly_the_granted_right(secure_mode, alice, bob):
    topic = Topic.objects.create(name="mod", owner=alice)
    TopicPermission.objects.create(topic=topic, user=bob, can_produce=True)
    assert produce_refusal(bob, "mod") is None
    assert consume_refusal(bob, "mod") is not None
    assert may_view_topic(bob, topic)  # a producer must see what it calls
    TopicPermission.objects.filter(user=bob).update(can_produce=False, can_consume=True)
    assert consume_refusal(bob, "mod") is None and produce_refusal(bob, "mod") is not None


def test_public_topic_allows_anonymous_produce_and_view_but_not_consume(secure_mode, alice):
    topic = Topic.objects.create(name="pub", owner=alice, is_public=True)
    assert produce_refusal(ANON, "pub") is None
    assert may_view_topic(ANON, topic)
    assert consume_refusal(ANON, "pub") is not None


def test_superuser_may_do_everything(secure_mode, alice, root):
    Topic.objects.create(name="mod", owner=alice)
    assert produce_refusal(root, "mod") is None
    assert consume_refusal(root, "mod") is None


def test_response_topic_is_consumed_by_requester_and_produced_by_backend(secure_mode, alice, bob):
    source = Topic.objects.create(name="mod", owner=bob)  # bob runs the backend
    TopicPermission.objects.create(topic=source, user=alice, can_produce=True)
    assert response_topic_refusal(alice, "mod", "mod_resp1") is None
    resp = Topic.objects.get(name="mod_resp1")
    assert resp.is_response_topic and resp.source_topic == source and resp.owner == alice
    assert consume_refusal(alice, "mod_resp1") is None
    assert produce_refusal(bob, "mod_resp1") is None
    assert consume_refusal(bob, "mod_resp1") == "user 'bob' may not consume topic 'mod_resp1'"
    assert not may_view_topic(bob, resp)


def test_subscribing_before_the_first_request_then_claiming_works(secure_mode, alice, bob):
    Topic.objects.create(name="mod", owner=bob)
    assert consume_refusal(alice, "mod_resp2") is None  # clients subscribe first
    assert response_topic_refusal(alice, "mod", "mod_resp2") is None
    resp = Topic.objects.get(name="mod_resp2")
    assert resp.is_response_topic and resp.source_topic.name == "mod"
    assert produce_refusal(bob, "mod_resp2") is None


def test_someone_elses_response_topic_cannot_be_claimed(secure_mode, alice, bob):
    Topic.objects.create(name="mod", owner=bob)
    assert response_topic_refusal(alice, "mod", "mod_resp3") is None
    refusal = response_topic_refusal(bob, "mod", "mod_resp3")
    assert "belongs to someone else" in refusal and "'bob'" in refusal
    assert "does not exist" in response_topic_refusal(alice, "nope", "x_resp")
    assert "topic name" in response_topic_refusal(alice, "mod", "bad/name")


def test_response_topic_must_be_named_after_its_request_topic(secure_mode, alice, bob):
    Topic.objects.create(name="mod1", owner=bob)
    Topic.objects.create(name="mod2", owner=bob)
    assert response_topic_refusal(alice, "mod1", "mod1_resp") is None
    refusal = response_topic_refusal(alice, "mod2", "mod1_resp")
    assert refusal == (
        "response topic 'mod1_resp' must be named after the request topic: 'mod2_<random suffix>'"
    )
    assert "must be named" in response_topic_refusal(alice, "mod1", "mod1_")
    assert "must be named" in response_topic_refusal(alice, "mod1", "mod1")
    # our Python client keeps 183 characters of a long topic name
    long = "m" * 190
    Topic.objects.create(name=long, owner=bob)
    assert response_topic_refusal(alice, long, "m" * 183 + "_abcdefghijklmnop") is None


def test_visible_topics_follow_view_rules_and_hide_response_topics(secure_mode, alice, bob):
    Topic.objects.create(name="a-own", owner=alice)
    Topic.objects.create(name="b-own", owner=bob)
    granted = Topic.objects.create(name="b-granted", owner=bob)
    TopicPermission.objects.create(topic=granted, user=alice, can_view=True)
    Topic.objects.create(name="pub", is_public=True)
    Topic.objects.create(name="a-resp", owner=alice, is_response_topic=True)
    names = set(visible_topics(alice).values_list("name", flat=True))
    assert names == {"a-own", "b-granted", "pub"}
    assert set(visible_topics(ANON).values_list("name", flat=True)) == {"pub"}


def test_open_mode_lists_every_non_response_topic(open_mode):
    Topic.objects.create(name="x")
    Topic.objects.create(name="x-resp", is_response_topic=True)
    assert list(visible_topics(ANON).values_list("name", flat=True)) == ["x"]


@pytest.mark.django_db(transaction=True)
def test_topic_access_caches_grants_per_connection(secure_mode, alice, bob):
    Topic.objects.create(name="mod", owner=bob)
    grant = TopicPermission.objects.create(
        topic=Topic.objects.get(name="mod"), user=alice, can_produce=True
    )
    access = TopicAccess(alice)
    first = asyncio.run(access.check_produce("mod"))
    grant.delete()  # only new connections see it: the hot path must not query the DB
    second = asyncio.run(access.check_produce("mod"))
    fresh = asyncio.run(TopicAccess(alice).check_produce("mod"))
    assert first is None and second is None
    assert fresh == "user 'alice' may not produce to topic 'mod'"


@pytest.mark.django_db(transaction=True)
def test_topic_access_registers_response_topics(secure_mode, alice, bob):
    Topic.objects.create(name="mod", owner=bob)

    async def scenario():
        client, backend = TopicAccess(alice), TopicAccess(bob)
        return (
            await client.check_consume("mod_r"),
            await client.register_response_topic("mod", "mod_r"),
            await backend.check_produce("mod_r"),
            await backend.check_consume("mod_r"),
        )

    consume, register, produce, stolen = asyncio.run(scenario())
    assert (consume, register, produce) == (None, None, None)
    assert stolen == "user 'bob' may not consume topic 'mod_r'"


def test_anonymous_caller_of_a_public_topic_gets_its_responses(secure_mode, alice, bob):
    Topic.objects.create(name="pub", owner=bob, is_public=True)
    # subscribe first (creates the response topic), then the request claims it
    assert consume_refusal(ANON, "pub_a1b2c3") is None
    resp = Topic.objects.get(name="pub_a1b2c3")
    assert resp.is_response_topic and resp.source_topic.name == "pub" and resp.owner is None
    assert response_topic_refusal(ANON, "pub", "pub_a1b2c3") is None
    assert produce_refusal(bob, "pub_a1b2c3") is None  # the backend answers
    assert produce_refusal(ANON, "pub_a1b2c3") is not None
    assert not visible_topics(ANON).filter(name="pub_a1b2c3").exists()


def test_anonymous_may_not_consume_other_topics_in_secure_mode(secure_mode, alice):
    Topic.objects.create(name="priv", owner=alice)
    assert consume_refusal(ANON, "priv_x") is not None  # not public
    assert consume_refusal(ANON, "pub") is not None  # no such topic
    Topic.objects.create(name="pub", is_public=True)
    assert consume_refusal(ANON, "pub").endswith("(refused: consume topic 'pub')")
    assert response_topic_refusal(alice, "pub", "pub_alice") is None
    assert "requires a token" in consume_refusal(ANON, "pub_alice")
    assert not Topic.objects.filter(name="priv_x").exists()
