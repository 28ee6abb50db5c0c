"""The wheel built with npm ships the JupyterLab extension and the server extension's config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.labextension.sourcetree import clean_checkout


@pytest.mark.slow
def test_wheel_contains_the_labextension_and_the_server_config(tmp_path, node_modules: Path):
    # a clean checkout: nothing prebuilt, so the build hook really runs npm
    source = clean_checkout(tmp_path / "src")
    # the packages of package-lock.json, copied (npm install then has nothing to fetch)
    shutil.copytree(
        os.path.realpath(node_modules), source / "labextension" / "node_modules", symlinks=True
    )
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist")]
        + [str(source)],
        env={**os.environ, "DASF_BUILD_LABEXTENSION": "1"},  # npm must be found and work
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("dasf_jupyter-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = "dasf_jupyter-0.1.0.data/data/"
    labext = data + "share/jupyter/labextensions/dasf-jupyter-labextension/"
    assert labext + "package.json" in names
    assert labext + "install.json" in names
    assert any(n.startswith(labext + "static/") and n.endswith(".js") for n in names)
    assert data + "etc/jupyter/jupyter_server_config.d/dasf_jupyter.json" in names
