"""The backend (SecurityPolicy) and client (ClientSecurity) hooks working together."""

from __future__ import annotations

import base64
import json
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dasf_jupyter.errors import ProtocolError
from dasf_jupyter.protocol import decode_json_payload, encode_json_payload, encode_text_payload
from dasf_jupyter.security import (
    API_INFO_KEY,
    AllowList,
    BadSignature,
    Caller,
    ClientSecurity,
    ContextMismatch,
    EncryptionRequired,
    EncryptionUnavailable,
    EncryptionUnsupported,
    FunctionNotAllowed,
    IdentityKey,
    IdentityRequired,
    KeyChanged,
    KnownModules,
    ModuleKeyPair,
    ReplayedNonce,
    SecurityError,
    SecurityPolicy,
    TamperedCiphertext,
    UnknownUser,
    WrongKey,
    caller_parameters,
    member_name,
    payload_digest,
    sign_request,
)

TOPIC = "climate"
ALICE = IdentityKey.generate()
REQUEST = {"func_name": "add", "a": 2, "b": 3}


def request_props(context="1") -> dict:
    return {"messageType": "request", "requestContext": context, "response_topic": "r_x"}


def api_info(policy: SecurityPolicy) -> dict:
    # round trip through JSON like the wire does
    return json.loads(json.dumps({"functions": [], "classes": [], **policy.api_info_extension()}))


@pytest.fixture
def keypair() -> ModuleKeyPair:
    return ModuleKeyPair.generate()


@pytest.fixture
def client(tmp_path) -> ClientSecurity:
    return ClientSecurity(KnownModules(tmp_path / "known"), identity=ALICE)


def send(client, policy, request=REQUEST, context="1", topic=TOPIC):
    payload, props, opener = client.prepare(
        api_info(policy), topic, context, encode_json_payload(request), request_props(context)
    )
    return payload, props, opener


def test_sealed_signed_round_trip_with_sealed_reply(keypair, client):
    allow_list = AllowList.from_lines([f"{ALICE.public_line()} alice"])
    policy = SecurityPolicy("encrypted-required", keypair, allow_list, require_auth=True)
    payload, props, opener = send(client, policy)
    assert props["dasf_e2e"] == "v1" and "add" not in base64.b64decode(payload).decode("latin1")

    plain, sec = policy.inbound(props, payload, TOPIC)
    assert decode_json_payload(plain) == REQUEST
    assert sec.caller == Caller(ALICE.fingerprint, "alice", ALICE.public_key)

    reply_props = {"messageType": "response", "requestContext": "1", "status": "success"}
    sealed, out_props = sec.outbound(encode_json_payload(5), reply_props)
    assert out_props["dasf_e2e"] == "v1" and sealed != encode_json_payload(5)
    assert decode_json_payload(opener.open(sealed, out_props)) == 5


def test_api_info_extension_announces_key_and_mode(keypair):
    ext = SecurityPolicy("encrypted-optional", keypair).api_info_extension()[API_INFO_KEY]
    assert ext["mode"] == "encrypted-optional"
    assert ext["public_key"] == keypair.public_key
    assert ext["fingerprint"] == keypair.fingerprint
    assert ext["e2e"].startswith("hpke-x25519")
    assert SecurityPolicy().api_info_extension()[API_INFO_KEY] == {
        "mode": "plain",
        "auth": {"required": False, "scheme": "ed25519-v1"},
    }


def test_plain_request_passes_optional_and_is_refused_by_required(keypair):
    payload = encode_json_payload(REQUEST)
    optional = SecurityPolicy("encrypted-optional", keypair)
    plain, sec = optional.inbound(request_props(), payload, TOPIC)
    assert plain == payload and not sec.sealed and sec.caller is None
    assert sec.outbound("NQ==", {"messageType": "response"}) == (
        "NQ==",
        {"messageType": "response"},
    )
    with pytest.raises(EncryptionRequired, match="only encrypted"):
        SecurityPolicy("encrypted-required", keypair).inbound(request_props(), payload, TOPIC)


def test_non_requests_pass_through_untouched(keypair):
    policy = SecurityPolicy("encrypted-required", keypair)
    props = {"messageType": "api_info", "requestContext": "1"}
    assert policy.inbound(props, "", TOPIC)[0] == ""


def test_sealed_request_to_a_plain_module_is_refused(keypair, client):
    sealed, props, _ = send(client, SecurityPolicy("encrypted-optional", keypair))
    with pytest.raises(EncryptionUnsupported, match="plain mode"):
        SecurityPolicy().inbound(props, sealed, TOPIC)


def test_module_restarted_with_new_key_is_refused_until_accepted(tmp_path, client, keypair):
    send(client, SecurityPolicy("encrypted-optional", keypair))
    new = SecurityPolicy("encrypted-optional", ModuleKeyPair.generate())
    with pytest.raises(KeyChanged, match="changed"):
        send(client, new)
    client.known_modules.accept(TOPIC, new.keypair.fingerprint)
    payload, props, _ = send(client, new)
    assert new.inbound(props, payload, TOPIC)[1].sealed


def test_request_sealed_to_the_old_key_gets_wrong_key(keypair, client):
    payload, props, _ = send(client, SecurityPolicy("encrypted-optional", keypair))
    with pytest.raises(WrongKey):
        SecurityPolicy("encrypted-optional", ModuleKeyPair.generate()).inbound(
            props, payload, TOPIC
        )


def test_trust_overrides_pin_and_refuses_other_key(tmp_path, keypair):
    policy = SecurityPolicy("encrypted-optional", keypair)
    good = ClientSecurity(KnownModules(tmp_path / "k"), trust={TOPIC: keypair.fingerprint})
    assert send(good, policy)[1]["dasf_e2e"] == "v1"
    bad = ClientSecurity(KnownModules(tmp_path / "k2"), trust={TOPIC: "SHA256:nope"})
    with pytest.raises(KeyChanged):
        send(bad, policy)
    with pytest.raises(EncryptionUnavailable, match="does not offer"):
        send(good, SecurityPolicy())


def test_replayed_sealed_request_is_refused(keypair, client):
    policy = SecurityPolicy("encrypted-optional", keypair, require_auth=False)
    payload, props, _ = send(client, policy)
    policy.inbound(props, payload, TOPIC)
    with pytest.raises(ReplayedNonce):
        policy.inbound(props, payload, TOPIC)


def test_sealed_request_moved_to_another_topic_is_refused(keypair, client):
    policy = SecurityPolicy("encrypted-optional", keypair)
    payload, props, _ = send(client, policy)
    with pytest.raises(ContextMismatch, match="topic"):
        policy.inbound(props, payload, "other-topic")


def test_tampered_sealed_request_is_refused(keypair, client):
    policy = SecurityPolicy("encrypted-optional", keypair)
    payload, props, _ = send(client, policy)
    data = bytearray(base64.b64decode(payload))
    data[-5] ^= 0xFF
    with pytest.raises(TamperedCiphertext):
        policy.inbound(props, base64.b64encode(bytes(data)).decode(), TOPIC)


def test_signature_swapped_by_another_user_breaks_decryption(keypair, client):
    # the signer is bound into the sealed request: re-signing as someone else fails
    mallory = IdentityKey.generate()
    policy = SecurityPolicy("encrypted-optional", keypair)
    payload, props, _ = send(client, policy)
    props.update(sign_request(mallory, TOPIC, "1", payload_digest(payload)))
    with pytest.raises(ContextMismatch, match="extra"):
        policy.inbound(props, payload, TOPIC)


def test_auth_errors_reach_the_backend_for_plain_modules(client):
    allow_list = AllowList.from_lines([f"{ALICE.public_line()} alice functions=mul"])
    policy = SecurityPolicy(allow_list=allow_list, require_auth=True)
    payload, props, opener = send(client, policy)
    assert not opener.sealed
    with pytest.raises(FunctionNotAllowed, match="'add'"):
        policy.inbound(props, payload, TOPIC)
    stranger = ClientSecurity(identity=IdentityKey.generate(), pinning=False)
    payload, props, _ = send(stranger, policy, context="2")
    with pytest.raises(UnknownUser):
        policy.inbound(props, payload, TOPIC)
    props["dasf_sig_ts"] = "1"
    with pytest.raises(BadSignature):
        policy.inbound(props, payload, TOPIC)


def test_client_without_identity_is_told_to_run_keygen(keypair):
    policy = SecurityPolicy(allow_list=AllowList.from_lines([]), require_auth=True)
    with pytest.raises(IdentityRequired, match="dasf keygen"):
        send(ClientSecurity(pinning=False), policy)


def test_reference_module_without_extension_gets_plain_requests():
    payload, props, opener = ClientSecurity(pinning=False).prepare(
        {"functions": []}, TOPIC, 1, encode_json_payload(REQUEST), request_props()
    )
    assert payload == encode_json_payload(REQUEST) and props == request_props()
    assert opener.open("NQ==", {"messageType": "response"}) == "NQ=="


def test_opener_accepts_unsealed_error_but_refuses_unsealed_success(keypair, client):
    _, _, opener = send(client, SecurityPolicy("encrypted-optional", keypair))
    error = encode_text_payload("this module accepts only encrypted requests")
    props = {"messageType": "response", "status": "error", "requestContext": "1"}
    assert opener.open(error, props) == error
    with pytest.raises(EncryptionRequired, match="injected"):
        opener.open(encode_json_payload(5), {**props, "status": "success"})
    with pytest.raises(EncryptionRequired):
        opener.open(encode_json_payload({}), {"messageType": "progress", "status": "running"})


def test_progress_and_status_are_bound_in_replies(keypair, client):
    policy = SecurityPolicy("encrypted-optional", keypair)
    payload, props, opener = send(client, policy)
    _, sec = policy.inbound(props, payload, TOPIC)
    sealed, out = sec.outbound(
        encode_json_payload({"status": "running"}),
        {"messageType": "progress", "status": "running", "requestContext": "1"},
    )
    assert decode_json_payload(opener.open(sealed, out)) == {"status": "running"}
    with pytest.raises(ContextMismatch):
        opener.open(sealed, {**out, "messageType": "response", "status": "success"})


def test_member_name_and_caller_parameters():
    assert member_name(b'{"func_name": "add"}') == "add"
    assert member_name(b'{"class_name": "G", "function": {"func_name": "greet"}}') == "G.greet"
    assert member_name(b"[1]") is None and member_name(b"\xff") is None

    def whoami(x: int, caller: Caller, maybe: Optional[Caller] = None) -> str:  # noqa: UP045
        return caller.name or ""

    assert caller_parameters(whoami) == ["caller", "maybe"]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["dasf_e2e", "dasf_sig", "dasf_sig_key", "dasf_sig_ts", "x"]),
        st.one_of(st.text(max_size=40), st.integers(), st.none()),
    ),
    st.text(max_size=120),
)
def test_garbage_requests_raise_only_documented_errors(props, payload):
    policy = SecurityPolicy(
        "encrypted-optional",
        FUZZ_KEYPAIR,
        AllowList.from_lines([ALICE.public_line()]),
        require_auth=True,
    )
    props = {**props, "messageType": "request", "requestContext": "1"}
    with pytest.raises((SecurityError, ProtocolError)):
        policy.inbound(props, payload, TOPIC)


FUZZ_KEYPAIR = ModuleKeyPair.generate()


def test_default_client_pins_in_the_per_user_file(private_data_home, keypair):
    send(ClientSecurity(), SecurityPolicy("encrypted-optional", keypair))
    pins = (private_data_home / "dasf-jupyter" / "known_modules").read_text()
    assert pins.split() == [TOPIC, keypair.fingerprint]
    with pytest.raises(KeyChanged):
        send(ClientSecurity(), SecurityPolicy("encrypted-optional", ModuleKeyPair.generate()))
