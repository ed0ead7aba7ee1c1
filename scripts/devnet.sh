#!/usr/bin/env bash
# Brings up a local floe network from a fresh clone: installs the pinned npm toolchain (anvil)
# if missing, builds `floe` and `floe-node`, and runs `floe devnet` (Ctrl-C stops it).
#
#   scripts/devnet.sh                      # 4 nodes, 100 shards, 1 h epochs, in ~/.floe/devnet
#   scripts/devnet.sh --nodes 7 --epoch-secs 60
#
# Then, from another terminal: target/debug/floe store photo.jpg
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -x node_modules/.bin/anvil ]; then
  echo "installing the npm toolchain (npm install, from package-lock.json) ..." >&2
  npm install --no-audit --no-fund --loglevel=error >&2
fi
echo "building floe and floe-node ..." >&2
cargo build --bin floe --bin floe-node >&2
exec "$root/target/debug/floe" devnet "$@"
