#!/usr/bin/env bash
# Regenerates the contract artifacts floe-chain compiles its bindings from: a fresh `forge build`
# of WAL, Staking and BlobRegistry, reduced to {contractName, abi, bytecode} per contract.
#
#   chain/artifacts/update.sh            # rewrite chain/artifacts/*.json
#   chain/artifacts/update.sh OUT_DIR    # write them to OUT_DIR instead (the sync test uses this)
#
# While an implementation is not written yet, its interface (IWAL, IStaking, IBlobRegistry) is
# used instead, with empty bytecode: the bindings compile, deploy() reports the missing bytecode.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dest=${1:-$here}
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$root"
sources=()
names=()
for c in WAL Staking BlobRegistry; do
  if [ -f "contracts/src/$c.sol" ]; then
    sources+=("contracts/src/$c.sol"); names+=("$c:$c")
  else
    echo "update.sh: contracts/src/$c.sol missing, using the interface I$c (no bytecode)" >&2
    sources+=("contracts/src/interfaces/I$c.sol"); names+=("$c:I$c")
  fi
done
npx --no-install forge build --out "$work/out" --cache-path "$work/cache" "${sources[@]}" >&2

node - "$work/out" "$dest" "${names[@]}" <<'JS'
const fs = require('fs');
const path = require('path');
const [outDir, dest, ...pairs] = process.argv.slice(2);
for (const pair of pairs) {
  const [name, source] = pair.split(':');
  const art = JSON.parse(fs.readFileSync(path.join(outDir, `${source}.sol`, `${source}.json`), 'utf8'));
  const reduced = { contractName: name, abi: art.abi, bytecode: { object: art.bytecode.object } };
  fs.writeFileSync(path.join(dest, `${name}.json`), JSON.stringify(reduced, null, 2) + '\n');
}
JS
