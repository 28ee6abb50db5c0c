#!/usr/bin/env bash
# Installs the system packages the tests use (Debian): Chromium for the browser tests.
# Skipped when already present, or when not root / no apt-get (those tests then skip or fail).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium (Debian package) for the browser tests ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is missing and cannot be installed here: browser tests will skip" >&2
fi
