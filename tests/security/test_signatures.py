"""Request signatures: every refusal reason has its own exception and message."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dasf_jupyter.security import (
    AllowList,
    AuthError,
    BadSignature,
    Caller,
    FunctionNotAllowed,
    IdentityKey,
    ReplayCache,
    ReplayedNonce,
    SignatureMissing,
    SigProp,
    StaleTimestamp,
    UnknownUser,
    payload_digest,
    sign_request,
    verify_request,
)

ALICE = IdentityKey.generate()
MALLORY = IdentityKey.generate()
NOW = 1_800_000_000
PAYLOAD = "eyJmdW5jX25hbWUiOiJhZGQifQ=="


def signed(identity=ALICE, topic="climate", context="3", payload=PAYLOAD, **kwargs):
    kwargs.setdefault("timestamp", NOW)
    props = {"messageType": "request", "requestContext": context}
    props.update(sign_request(identity, topic, context, payload_digest(payload), **kwargs))
    return props


def allow(*lines: str) -> AllowList:
    return AllowList.from_lines(lines)


ALLOW_ALICE = allow(f"{ALICE.public_line()} alice")


def verify(props, payload=PAYLOAD, topic="climate", allow_list=ALLOW_ALICE, **kwargs):
    kwargs.setdefault("now", NOW)
    return verify_request(props, payload, topic, allow_list, **kwargs)


def test_valid_signature_yields_the_caller():
    caller = verify(signed())
    assert caller == Caller(ALICE.fingerprint, "alice", ALICE.public_key)


def test_int_request_context_of_python_clients_verifies():
    props = signed(context="0")
    props["requestContext"] = 0
    assert verify(props).name == "alice"


def test_properties_are_strings_for_pulsar():
    assert all(isinstance(v, str) for v in sign_request(ALICE, "t", 1, b"d").values())


def test_missing_signature_is_refused():
    with pytest.raises(SignatureMissing, match="dasf keygen"):
        verify({"messageType": "request", "requestContext": "3"})


def test_changed_payload_topic_or_context_breaks_the_signature():
    with pytest.raises(BadSignature, match="does not verify"):
        verify(signed(), payload=PAYLOAD + "AA==")
    with pytest.raises(BadSignature):
        verify(signed(), topic="other")
    props = signed()
    props["requestContext"] = "4"
    with pytest.raises(BadSignature):
        verify(props)


def test_substituted_key_breaks_the_signature():
    props = signed()
    props[SigProp.KEY] = MALLORY.public_key
    with pytest.raises(BadSignature):
        verify(props, allow_list=allow(MALLORY.public_line()))


def test_malformed_signature_properties_are_bad_signatures():
    for key, value in [
        (SigProp.KEY, "short"),
        (SigProp.SIGNATURE, "%%%"),
        (SigProp.TIMESTAMP, "yesterday"),
        (SigProp.VERSION, "9"),
        (SigProp.NONCE, ""),
    ]:
        props = signed()
        props[key] = value
        with pytest.raises(BadSignature):
            verify(props)


def test_expired_and_future_timestamps_are_refused():
    with pytest.raises(StaleTimestamp, match="expired"):
        verify(signed(timestamp=NOW - 301))
    with pytest.raises(StaleTimestamp, match="future"):
        verify(signed(timestamp=NOW + 301))
    assert verify(signed(timestamp=NOW - 299)).name == "alice"


def test_replayed_nonce_is_refused():
    cache = ReplayCache()
    props = signed()
    verify(props, replay_cache=cache)
    with pytest.raises(ReplayedNonce, match="replay"):
        verify(props, replay_cache=cache)
    # another user may happen to choose the same nonce
    other = signed(identity=MALLORY, nonce=props[SigProp.NONCE])
    verify(other, allow_list=None, replay_cache=cache)


def test_unknown_user_is_refused():
    with pytest.raises(UnknownUser, match=re.escape(MALLORY.fingerprint)):
        verify(signed(identity=MALLORY))


def test_user_not_on_a_functions_list_is_refused():
    allow_list = allow(f"{ALICE.public_line()} alice functions=add,Greeter")
    assert verify(signed(), allow_list=allow_list, function="add").name == "alice"
    assert verify(signed(), allow_list=allow_list, function="Greeter.greet")
    with pytest.raises(FunctionNotAllowed, match="alice is not allowed to call 'mul'"):
        verify(signed(), allow_list=allow_list, function="mul")


def test_without_allow_list_any_valid_signature_is_accepted():
    assert verify(signed(identity=MALLORY), allow_list=None).name is None


def test_replay_cache_is_bounded_in_size_and_time():
    cache = ReplayCache(window=10, max_entries=3)
    for i in range(5):
        cache.add("fp", f"n{i}", NOW, NOW)
    assert len(cache) == 3
    cache.add("fp", "late", NOW + 11, NOW + 11)
    assert len(cache) == 1


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*SigProp.ALL, "requestContext", "x"]),
        st.one_of(st.text(max_size=60), st.integers(), st.none(), st.binary(max_size=40)),
    ),
    st.one_of(st.text(max_size=50), st.binary(max_size=50)),
)
def test_garbage_signature_properties_raise_only_auth_errors(props, payload):
    if isinstance(payload, str):
        payload = base64.b64encode(payload.encode()).decode()
    with pytest.raises(AuthError):
        verify(props, payload=payload)
