#!/usr/bin/env bash
# Runs every floe test: formatting and lints, the forge suite (unit, fuzz, invariant, gas), the
# cargo workspace (unit, property, integration and end-to-end tests against anvil and node
# processes, and the gateway's explorer page in Chromium), the explorer page against a mock
# gateway, and a bounded run of every cargo-fuzz target from its committed corpus.
# Works on a fresh clone: installs the pinned npm toolchain first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "npm toolchain (Foundry, solc, OpenZeppelin) from package-lock.json"
# `npm install` against the committed lock, not `npm ci`: the registry lacks some of Foundry
# 1.7.1's optional per-platform packages (e.g. anvil-darwin-amd64), which `npm ci` refuses.
npm install --no-audit --no-fund --loglevel=error

step "Chromium for the explorer's browser tests (Debian's chromium, installed when missing)"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "Chromium is missing: install it (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
  fi
fi

step "forge fmt --check"
npx --no-install forge fmt --check

step "forge test"
npx --no-install forge test

step "forge snapshot --check (committed gas figures of every contracts/test/Gas*.t.sol)"
npx --no-install forge snapshot --check --match-path 'contracts/test/Gas*.t.sol'

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build (binaries the end-to-end tests spawn)"
cargo build --workspace --bins --locked

step "cargo test"
cargo test --workspace --locked

step "explorer page in Chromium against the in-memory mock gateway (the live run is an e2e test)"
OUT_DIR=target/browser-test/mock bash tests/browser/run.sh

step "cargo fuzz (every target, ${FUZZ_SECS:-20}s each, from core/fuzz/corpus)"
bash scripts/fuzz.sh
