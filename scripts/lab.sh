#!/usr/bin/env bash
# Sets up everything on a fresh machine and opens notebooks/basic.ipynb in JupyterLab, with the
# DASF jupyter-server extension running an embedded broker on 127.0.0.1.
# Extra arguments go to `jupyter lab`, e.g.  bash scripts/lab.sh --no-browser --port 8899
# DASF_SKIP_SETUP=1 skips the (re)install; DASF_BUILD_LABEXTENSION=0 never runs npm.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${DASF_SKIP_SETUP:-0}" != "1" ]; then
  bash scripts/setup.sh "broker,jupyter"
fi

# The DASF sidebar is optional (notebooks, magics and forms work without it): build it once if
# Node.js is available, and hand it to this JupyterLab only (nothing is installed globally).
built=dasf_jupyter/labextension
if [ ! -f "$built/package.json" ] && [ "${DASF_BUILD_LABEXTENSION:-1}" = "1" ] \
  && command -v npm >/dev/null 2>&1; then
  echo "building the DASF sidebar (JupyterLab extension) ..."
  (cd labextension && npm ci --no-audit --no-fund --loglevel=error \
    && PATH="$PWD/../.venv/bin:$PATH" npm run build:prod >/dev/null)
fi
lab_args=()
if [ -f "$built/package.json" ]; then
  mkdir -p .venv/dasf-labextensions
  ln -sfn "$PWD/$built" .venv/dasf-labextensions/dasf-jupyter-labextension
  lab_args+=("--LabApp.extra_labextensions_path=$PWD/.venv/dasf-labextensions")
else
  echo "note: the DASF sidebar is not built (needs npm); notebooks and %dasf work without it" >&2
fi
if [ "$(id -u)" = "0" ]; then
  lab_args+=(--allow-root)  # containers often run as root; Jupyter refuses that otherwise
fi

# the shipped notebooks open trusted: saved forms and xarray reprs render before any cell runs
.venv/bin/jupyter trust notebooks/*.ipynb >/dev/null 2>&1 || true
export DASF_EMBEDDED_BROKER=1  # the server extension starts a broker and stops it on exit
# kernels inherit PATH: `!dasf keygen` in a notebook finds the project's commands
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/jupyter lab notebooks/basic.ipynb \
  "--ServerApp.jpserver_extensions=dasf_jupyter.jupyter.server=True" "${lab_args[@]}" "$@"
