"""Keep every key and pin file of these tests out of the real home directory."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_data_home(tmp_path, monkeypatch):
    """Point ``XDG_DATA_HOME`` (where default key and pin files live) at a temp dir."""
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home
