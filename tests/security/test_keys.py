"""Key files: creation, permissions, reuse; fingerprints; the keygen command."""

from __future__ import annotations

import base64
import hashlib
import os
import stat

import pytest

from dasf_jupyter.security import IdentityKey, KeyFileError, ModuleKeyPair, fingerprint
from dasf_jupyter.security.cli import keygen_main


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_module_key_is_created_private_in_private_dirs(tmp_path):
    path = tmp_path / "a" / "b" / "mod.pem"
    keypair = ModuleKeyPair.load_or_create(path)
    assert mode_of(path) == 0o600
    assert mode_of(tmp_path / "a") == 0o700
    assert mode_of(tmp_path / "a" / "b") == 0o700
    assert ModuleKeyPair.load_or_create(path).public_key == keypair.public_key


def test_module_key_default_path_follows_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    keypair = ModuleKeyPair.load_or_create(topic="climate")
    path = tmp_path / "dasf-jupyter" / "keys" / "climate.x25519.pem"
    assert path.exists()
    assert ModuleKeyPair.load(path).fingerprint == keypair.fingerprint


def test_key_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "mod.pem"
    ModuleKeyPair.load_or_create(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        ModuleKeyPair.load(path)


def test_garbage_key_file_is_a_clear_error(tmp_path):
    path = tmp_path / "mod.pem"
    path.write_text("not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="usable private key"):
        ModuleKeyPair.load(path)


def test_identity_key_cannot_be_loaded_as_module_key(tmp_path):
    path = tmp_path / "id.pem"
    IdentityKey.generate().save(path)
    with pytest.raises(KeyFileError, match="expected X25519PrivateKey"):
        ModuleKeyPair.load(path)


def test_fingerprint_is_ssh_style_sha256_of_raw_key():
    raw = bytes(range(32))
    expected = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    assert fingerprint(raw) == "SHA256:" + expected


def test_identity_save_refuses_overwrite_and_writes_pub_line(tmp_path):
    path = tmp_path / "id.pem"
    identity = IdentityKey.generate()
    pub = identity.save(path, comment="alice")
    assert mode_of(path) == 0o600
    assert pub.read_text().split() == ["dasf-ed25519", identity.public_key, "alice"]
    with pytest.raises(KeyFileError, match="exists"):
        IdentityKey.generate().save(path)
    assert IdentityKey.load(path).fingerprint == identity.fingerprint


def test_keygen_creates_identity_and_refuses_second_run_without_force(tmp_path, capsys):
    out = tmp_path / "keys" / "me.pem"
    assert keygen_main(["--out", str(out), "--comment", "me"]) == 0
    first = IdentityKey.load(out)
    assert first.fingerprint in capsys.readouterr().out
    assert mode_of(out) == 0o600
    assert keygen_main(["--out", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    assert keygen_main(["--out", str(out), "--force"]) == 0
    assert IdentityKey.load(out).fingerprint != first.fingerprint


def test_keygen_show_and_module_key(tmp_path, capsys):
    out = tmp_path / "me.pem"
    keygen_main(["--out", str(out)])
    capsys.readouterr()
    assert keygen_main(["--out", str(out), "--show"]) == 0
    assert IdentityKey.load(out).public_key in capsys.readouterr().out
    module_path = tmp_path / "mod.pem"
    assert keygen_main(["--module", "climate", "--out", str(module_path)]) == 0
    assert ModuleKeyPair.load(module_path).fingerprint in capsys.readouterr().out


def test_identity_with_passphrase_needs_it_to_load(tmp_path, monkeypatch, capsys):
    out = tmp_path / "id.pem"
    monkeypatch.setenv("MY_PASS", "correct horse")
    assert keygen_main(["--out", str(out), "--passphrase-env", "MY_PASS"]) == 0
    with pytest.raises(KeyFileError, match="passphrase"):
        IdentityKey.load(out)
    with pytest.raises(KeyFileError):
        IdentityKey.load(out, b"wrong")
    assert (
        IdentityKey.load(out, b"correct horse").public_key
        in out.with_suffix(".pem.pub").read_text()
    )
    monkeypatch.setenv("MY_PASS", "")
    assert keygen_main(["--out", str(out), "--show", "--passphrase-env", "MY_PASS"]) == 1
