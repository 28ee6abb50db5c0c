"""Fixtures of the labextension tests: Node packages and the built JupyterLab extension."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABEXTENSION = ROOT / "labextension"
BUILT = ROOT / "dasf_jupyter" / "labextension"
NPM_TIMEOUT = 900  # s; a cold `npm ci` takes about 2 minutes here


def npm_executable() -> str:
    """The npm command, or skip: the TypeScript parts need Node.js and npm."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed; the labextension tests need Node.js and npm")
    return npm


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """``labextension/node_modules``, installed from package-lock.json if missing."""
    npm = npm_executable()
    target = LABEXTENSION / "node_modules"
    if not (target / ".bin" / "jest").exists():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=LABEXTENSION,
            check=True,
            timeout=NPM_TIMEOUT,
        )
    return target


def _stale(built: Path) -> bool:
    """Whether the build is missing or older than any source, schema or style file."""
    if not built.exists():
        return True
    sources = [LABEXTENSION / "package.json"]
    for folder in ("src", "schema", "style"):
        sources.extend(p for p in (LABEXTENSION / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in sources) > built.stat().st_mtime


@pytest.fixture(scope="session")
def built_labextension(node_modules: Path) -> Path:
    """The prebuilt JupyterLab extension (``dasf_jupyter/labextension``), built if missing."""
    if _stale(BUILT / "package.json"):
        # jupyter-builder lives next to this Python, which may not be on PATH
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        subprocess.run(
            [npm_executable(), "run", "build:prod"],
            cwd=LABEXTENSION,
            env=env,
            check=True,
            timeout=NPM_TIMEOUT,
        )
    return BUILT
