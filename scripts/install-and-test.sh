#!/usr/bin/env bash
# Installs everything the test suite needs (Debian packages when missing, npm packages from the
# lockfile), then runs lint, typecheck and every test. This is the README's test command and CI's.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq "${need[@]}" >&2
fi

npm ci --no-audit --no-fund
npm run lint
npm run typecheck
npm test
