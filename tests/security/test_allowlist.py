"""The allow-list file: formats, per-function lists, reload on change, fail closed."""

from __future__ import annotations

import os

import pytest

from dasf_jupyter.security import AllowList, AllowListError, IdentityKey

ALICE = IdentityKey.generate()
BOB = IdentityKey.generate()


def test_all_three_line_formats_are_understood():
    allow_list = AllowList.from_lines(
        [
            "# comment line",
            "",
            f"{ALICE.public_line()} alice   # trailing comment",
            f"{BOB.fingerprint} bob functions=add",
        ]
    )
    alice = allow_list.lookup(ALICE.fingerprint)
    assert alice.name == "alice" and alice.public_key == ALICE.public_key
    assert alice.functions is None
    assert allow_list.lookup(BOB.fingerprint).functions == frozenset({"add"})
    assert AllowList.from_lines([ALICE.public_key]).lookup(ALICE.fingerprint).name is None


def test_malformed_line_names_its_number():
    with pytest.raises(AllowListError, match="line 2"):
        AllowList.from_lines(["", "dasf-ed25519 not-a-key"])


def write(path, text, bump):
    path.write_text(text)
    # mtime granularity can hide quick rewrites; move it explicitly
    os.utime(path, ns=(bump, bump))


def test_file_is_reloaded_when_it_changes(tmp_path):
    path = tmp_path / "allowed"
    write(path, ALICE.public_line() + " alice\n", 1_000_000_000)
    allow_list = AllowList(path)
    assert allow_list.lookup(BOB.fingerprint) is None
    write(path, BOB.public_line() + " bob\n", 2_000_000_000)
    assert allow_list.lookup(BOB.fingerprint).name == "bob"
    assert allow_list.lookup(ALICE.fingerprint) is None


def test_broken_or_missing_file_refuses_everyone(tmp_path):
    path = tmp_path / "allowed"
    write(path, ALICE.public_line() + "\n", 1_000_000_000)
    allow_list = AllowList(path)
    assert allow_list.lookup(ALICE.fingerprint)
    write(path, "dasf-ed25519 garbage\n", 2_000_000_000)
    with pytest.raises(AllowListError, match="refusing"):
        allow_list.lookup(ALICE.fingerprint)
    path.unlink()
    with pytest.raises(AllowListError, match="cannot be read"):
        allow_list.lookup(ALICE.fingerprint)
    write(path, ALICE.public_line() + "\n", 3_000_000_000)
    assert allow_list.lookup(ALICE.fingerprint)
