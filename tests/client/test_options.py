"""Connection options: security as one object or as keywords, checked at once."""

from __future__ import annotations

import pytest

from dasf_jupyter.client import Connection, Security, connect
from dasf_jupyter.security import IdentityKey

URL = "ws://broker.invalid:1/ws"


def test_security_fields_as_keywords_and_as_one_object_are_the_same(tmp_path):
    identity = IdentityKey.generate()
    known = tmp_path / "known"
    trust = {"climate": "SHA256:abc"}
    by_keywords = connect(URL, identity=identity, trust=trust, known_modules=known)
    by_object = Connection(URL, security=Security(identity, trust, "always", known))
    with by_keywords, by_object:
        assert by_keywords.options == Security(identity, trust, "auto", known)
        for conn in (by_keywords, by_object):
            assert conn.security.identity is identity
            assert conn.security.trust == trust
            assert conn.security.known_modules.path == known
        assert by_object.security.encrypt == "always"
        assert by_keywords.security.encrypt == "auto"


def test_trusting_a_topic_later_leaves_the_options_alone(tmp_path):
    with connect(URL, known_modules=tmp_path / "known") as conn:
        conn.trust("climate", "SHA256:abc")
        assert conn.security.trust == {"climate": "SHA256:abc"}
        assert dict(conn.options.trust) == {}


def test_an_unknown_encrypt_mode_is_refused():
    with pytest.raises(ValueError, match="encrypt must be one of 'auto', 'always', 'required'"):
        Security(encrypt="sometimes")  # type: ignore[arg-type]


def test_security_and_its_keywords_together_are_refused():
    with pytest.raises(TypeError, match="not both"):
        connect(URL, security=Security(), encrypt="always")


def test_an_unknown_keyword_is_refused():
    with pytest.raises(TypeError, match="encryption"):
        connect(URL, encryption="always")
