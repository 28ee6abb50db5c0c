"""Build hook of the package: the DASF sidebar (JupyterLab extension), only if npm is there.

Called by hatch-jupyter-builder (``build-function`` in pyproject.toml) for editable installs and
wheels. With npm (Node.js >= 18) on PATH it builds ``labextension/`` into
``dasf_jupyter/labextension`` and fails if that build fails. Without npm it says so and builds
the package without the sidebar: notebooks, magics and forms do not need it.
``DASF_BUILD_LABEXTENSION=0`` skips it even when npm is there; ``=1`` requires it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

TARGET = Path("dasf_jupyter") / "labextension" / "package.json"


def build(target_name: str, version: str, **kwargs: Any) -> None:
    """Build the sidebar with npm, or skip it with a clear message when npm is missing."""
    wanted = os.environ.get("DASF_BUILD_LABEXTENSION", "")
    if wanted == "0":
        _note("DASF_BUILD_LABEXTENSION=0: building without the DASF sidebar")
        return
    if shutil.which("npm") is None:
        if wanted == "1":
            raise RuntimeError("DASF_BUILD_LABEXTENSION=1 but npm is not on PATH")
        _note(
            "npm not found: building dasf-jupyter WITHOUT the DASF sidebar (JupyterLab "
            "extension); notebooks, %dasf magics and forms work without it. Install Node.js "
            ">= 18 (with npm) and reinstall to get the sidebar."
        )
        return
    from hatch_jupyter_builder import npm_builder

    npm_builder(target_name, version, **kwargs)
    if not TARGET.exists():
        raise RuntimeError(f"the labextension build did not produce {TARGET}")


def _note(text: str) -> None:
    print(f"dasf-jupyter build: {text}", file=sys.stderr, flush=True)
