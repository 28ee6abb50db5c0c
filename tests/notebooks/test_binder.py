"""binder/: the files repo2docker reads, exercised the way a Binder launch uses them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.notebooks.nbtools import (
    NOTEBOOKS,
    ROOT,
    isolated_env,
    run_nbval,
    untrusted_notebooks,
    wait_until_gone,
)

BINDER = ROOT / "binder"


def test_start_sets_the_embedded_broker_and_execs_the_command(tmp_path):
    assert os.access(BINDER / "start", os.X_OK) and os.access(BINDER / "postBuild", os.X_OK)
    result = subprocess.run(
        [str(BINDER / "start"), "env"],
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "DASF_EMBEDDED_BROKER=1" in result.stdout.splitlines()
    # exec "$@": the command's exit code is start's exit code
    failed = subprocess.run([str(BINDER / "start"), "sh", "-c", "exit 7"], timeout=30)
    assert failed.returncode == 7


def test_requirements_install_this_repository_with_the_jupyter_extra(tmp_path):
    text = (BINDER / "requirements.txt").read_text()
    assert "-e .[broker,jupyter]" in text.splitlines()
    # repo2docker runs pip from the repository root; resolve without installing anything
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-deps",
            "-r",
            "binder/requirements.txt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "dasf-jupyter" in result.stdout or "dasf_jupyter" in result.stdout, result.stdout


@pytest.mark.slow
def test_post_build_enables_the_server_extension_and_notebooks_run_through_start(tmp_path):
    env = isolated_env(tmp_path)
    # repo2docker runs postBuild and start with the image's environment first on PATH
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"
    build = subprocess.run(
        ["bash", str(BINDER / "postBuild")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    config_part = (listed.stdout + listed.stderr).split(env["JUPYTER_CONFIG_DIR"])[1]
    assert "dasf_jupyter.jupyter.server" in config_part.split("Config dir:")[0]
    assert "enabled" in config_part.split("Config dir:")[0]
    # a Binder user's first screen: saved forms and rich outputs render, nothing to re-run
    assert untrusted_notebooks(env) == []
    if (ROOT / "dasf_jupyter" / "labextension" / "package.json").exists():
        link = tmp_path / "jupyter-data" / "labextensions" / "dasf-jupyter-labextension"
        assert (link / "package.json").exists()
    # the demo notebook, run the way Binder's start runs the server's command
    result = run_nbval([NOTEBOOKS / "basic.ipynb"], env, prefix=(str(BINDER / "start"),))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert wait_until_gone(str(tmp_path)) == []
