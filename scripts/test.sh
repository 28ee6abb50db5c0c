#!/usr/bin/env bash
# Sets up everything on a fresh machine and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check dasf_jupyter tests benchmarks scripts
.venv/bin/mypy  # dasf_jupyter/, as configured in pyproject.toml
.venv/bin/python -m pytest -p no:cacheprovider "$@"
