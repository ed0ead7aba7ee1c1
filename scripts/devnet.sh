#!/usr/bin/env bash
# Brings up a local floe network: anvil with the contracts deployed, storage nodes as processes,
# and a client config in ~/.floe/devnet (FLOE_HOME moves ~/.floe). Ctrl-C stops everything.
# Extra arguments go to `floe devnet` (e.g. --nodes 4 --shards 100 --epoch-secs 3600).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/anvil ] || npm ci --no-audit --no-fund --loglevel=error
cargo build --workspace --bins --locked
exec target/debug/floe devnet "$@"
