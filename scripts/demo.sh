#!/usr/bin/env bash
# Sets up everything on a fresh machine and runs the main job on the embedded default:
# a broker on 127.0.0.1, a backend module served from a script, and a client calling it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh broker
exec .venv/bin/python -m dasf_jupyter.demo "$@"
