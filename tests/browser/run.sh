#!/usr/bin/env bash
# Runs the explorer browser test (tests/browser/explorer.test.mjs), installing what it needs:
# node modules from package-lock.json, and Debian's Chromium when it is missing and we are root.
# Environment: GATEWAY_URL (unset: the in-memory mock), OUT_DIR, FLOE_BROWSER_CHAIN_DOWN_URL,
# CHROMIUM (default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v node >/dev/null 2>&1; then
  echo "run.sh: node is not installed; install Node.js 20 or newer" >&2
  exit 1
fi

if ! node -e "require.resolve('playwright-core')" >/dev/null 2>&1; then
  echo "run.sh: installing node modules from package-lock.json"
  npm install --no-audit --no-fund
fi

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "run.sh: installing chromium with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "run.sh: $CHROMIUM is missing; install Chromium (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
  fi
fi
export CHROMIUM

exec node tests/browser/explorer.test.mjs
