"""Without Node.js/npm the package still builds and installs, without the DASF sidebar.

README calls the sidebar optional: the wheel and the editable install of a clean checkout
succeed with npm hidden from PATH, and say that the sidebar was left out.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from tests.labextension.sourcetree import clean_checkout, path_without_node

pytestmark = pytest.mark.slow

BUILD_TIMEOUT = 600  # s; pip installs the build requirements (hatchling, jupyterlab) first
SKIPPED = "WITHOUT the DASF sidebar"


def without_npm(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DASF_BUILD_LABEXTENSION"}
    env["PATH"] = path_without_node(tmp_path / "bin")
    return env


def test_wheel_builds_without_npm_and_leaves_the_sidebar_out(tmp_path):
    source = clean_checkout(tmp_path / "src")
    env = without_npm(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path / "dist")]
        + [str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert SKIPPED in output
    (wheel,) = (tmp_path / "dist").glob("dasf_jupyter-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dasf_jupyter/jupyter/magics.py" in names
    assert not any(n.endswith("dasf-jupyter-labextension/package.json") for n in names)
    assert not any("/static/" in n for n in names)


def test_editable_install_without_npm_works(tmp_path):
    source = clean_checkout(tmp_path / "src")
    env = without_npm(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], env=env, check=True, timeout=BUILD_TIMEOUT
    )
    python = venv / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-v", "--no-deps", "-e", str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert SKIPPED in output
    assert not (source / "dasf_jupyter" / "labextension" / "package.json").exists()
    found = subprocess.run(
        [str(python), "-c", "import dasf_jupyter.cli, sys; print(dasf_jupyter.cli.__file__)"],
        env={**env, "PYTHONPATH": ""},
        cwd=tmp_path,  # not the repository: the import must come from the editable install
        capture_output=True,
        text=True,
        timeout=60,
    )
    # the module's imports need the dependencies (not installed here): its file is enough
    assert str(source / "dasf_jupyter") in found.stdout + found.stderr


def dockerfile_copies(dockerfile: str) -> list[tuple[list[str], str]]:
    """``(sources, destination)`` of each ``COPY`` line of the Dockerfile."""
    copies = []
    for line in dockerfile.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--") for w in words):
            copies.append((words[1:-1], words[-1]))
    return copies


def test_the_dockerfile_s_build_context_builds_without_npm(tmp_path):
    """What the Dockerfile copies into a Node-less image is enough to build the package."""
    import shutil

    source = clean_checkout(tmp_path / "checkout")
    context = tmp_path / "app"
    context.mkdir()
    for sources, destination in dockerfile_copies((source / "Dockerfile").read_text()):
        for name in sources:
            target = context / destination
            if destination.endswith("/"):  # into that folder, under the source's own name
                target = target / (source / name).name
            if (source / name).is_dir():
                shutil.copytree(source / name, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, target)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path / "dist")]
        + [str(context)],
        env=without_npm(tmp_path),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert list((tmp_path / "dist").glob("dasf_jupyter-*.whl"))
