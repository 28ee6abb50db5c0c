"""Known modules: first use pins, a changed key is refused until accepted or trusted."""

from __future__ import annotations

import os
import stat

import pytest

from dasf_jupyter.security import KeyChanged, KnownModules

OLD = "SHA256:old"
NEW = "SHA256:new"


def test_first_use_pins_the_key_in_a_private_file(tmp_path):
    path = tmp_path / "dir" / "known_modules"
    known = KnownModules(path)
    known.check("climate", OLD)
    assert KnownModules(path).get("climate") == OLD
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    known.check("climate", OLD)


def test_changed_key_is_refused_with_instructions(tmp_path):
    known = KnownModules(tmp_path / "known")
    known.check("climate", OLD)
    with pytest.raises(KeyChanged) as info:
        known.check("climate", NEW)
    message = str(info.value)
    assert OLD in message and NEW in message and ".accept('climate'" in message
    assert "trust=" in message
    assert known.get("climate") == OLD


def test_accept_replaces_the_pin(tmp_path):
    known = KnownModules(tmp_path / "known")
    known.check("climate", OLD)
    known.accept("climate", NEW)
    known.check("climate", NEW)
    with pytest.raises(KeyChanged):
        known.check("climate", OLD)


def test_explicit_trust_overrides_and_repins(tmp_path):
    known = KnownModules(tmp_path / "known")
    known.check("climate", OLD)
    known.check("climate", NEW, trusted=NEW)
    assert known.get("climate") == NEW
    with pytest.raises(KeyChanged, match="--trust"):
        known.check("climate", OLD, trusted=NEW)


def test_pins_are_per_topic_and_forgettable(tmp_path):
    known = KnownModules(tmp_path / "known")
    known.check("a", OLD)
    known.check("b", NEW)
    known.forget("a")
    assert known.all() == {"b": NEW}
    known.check("a", NEW)
