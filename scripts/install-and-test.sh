#!/usr/bin/env bash
# Installs everything the test suite needs (Debian packages when missing, npm packages from the
# lockfile; `npm ci` also builds the web viewer), then runs lint, typecheck and every test. This is the README's test command and CI's.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
# the queue tests start their own Redis on loopback; the viewer's browser tests drive Debian's Chromium
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# The fake Kubernetes API's pods: bwrap namespaces that execs join with nsenter.
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq "${need[@]}" >&2
fi

npm ci --no-audit --no-fund
npm run lint
npm run typecheck
npm test
