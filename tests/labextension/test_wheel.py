"""The wheel ships the prebuilt JupyterLab extension and the server extension's config."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_the_labextension_and_the_server_config(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = tmp_path.glob("dasf_jupyter-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = "dasf_jupyter-0.1.0.data/data/"
    labext = data + "share/jupyter/labextensions/dasf-jupyter-labextension/"
    assert labext + "package.json" in names
    assert labext + "install.json" in names
    assert any(n.startswith(labext + "static/") and n.endswith(".js") for n in names)
    assert data + "etc/jupyter/jupyter_server_config.d/dasf_jupyter.json" in names
