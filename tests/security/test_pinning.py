"""Known modules: first use pins, a changed key is refused until accepted or trusted."""

from __future__ import annotations

import os
import stat
import time
import types

import pytest

from dasf_jupyter.security import (
    ClientSecurity,
    DowngradeRefused,
    KeyChanged,
    KnownModules,
    pinning,
)

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


@pytest.fixture
def settled(monkeypatch):
    """Reads happen an hour after the last write: snapshots are not "racy" (pinning._Snapshot)."""
    clock = types.SimpleNamespace(time=lambda: time.time() + 3600)
    monkeypatch.setattr(pinning, "time", clock)


def test_an_unchanged_file_is_read_once_and_stat_per_look_up(tmp_path, monkeypatch, settled):
    path = tmp_path / "known"
    KnownModules(path).accept("climate", OLD)
    known = KnownModules(path)
    reads = []
    parse = known._parse
    monkeypatch.setattr(known, "_parse", lambda: reads.append(1) or parse())
    assert [known.get("climate") for _ in range(5)] == [OLD] * 5
    assert known.get("other") is None
    assert len(reads) == 1


def test_a_pin_written_by_another_process_is_honoured_at_the_next_look_up(tmp_path, settled):
    path = tmp_path / "known"
    KnownModules(path).accept("climate", OLD)
    ours = ClientSecurity(KnownModules(path))
    assert ours.pinned("climate") == OLD and not ours.requires_encryption("ocean")
    other = KnownModules(path)  # another kernel of the same user
    other.accept("ocean", NEW)
    assert ours.requires_encryption("ocean")
    with pytest.raises(DowngradeRefused):
        ours.module_key(None, "ocean")
    other.forget("climate")
    assert ours.pinned("climate") is None


def test_a_rewrite_in_place_with_the_old_size_and_mtime_is_still_seen(tmp_path, settled):
    path = tmp_path / "known"
    known = KnownModules(path)
    known.accept("climate", OLD)
    before = os.stat(path)
    assert known.get("climate") == OLD  # cached: the file looks settled
    path.write_text(f"climate {NEW}\n".replace("SHA256:new", "SHA256:xyz"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # only ctime tells
    assert os.stat(path).st_size == before.st_size
    assert known.get("climate") == "SHA256:xyz"


def test_a_file_changed_just_now_is_not_trusted_to_stay_as_read(tmp_path, monkeypatch):
    path = tmp_path / "known"
    known = KnownModules(path)
    known.accept("climate", OLD)
    reads = []
    parse = known._parse
    monkeypatch.setattr(known, "_parse", lambda: reads.append(1) or parse())
    known.get("climate")
    known.get("climate")
    assert len(reads) == 2  # a write within the timestamp granularity could hide behind it
