#!/usr/bin/env bash
# Peak RSS and wall time of `floe store` and `floe read -o` of one large file on a release
# devnet (4 nodes, n = 100), for BENCHMARKS.md (issue #9). Not part of CI: a 2 GiB run takes a
# few minutes and needs ~12 GiB free (the nodes keep 4.4x the file).
#
#   scripts/bench-large-file.sh                 # 2048 MiB, the default chunk size
#   scripts/bench-large-file.sh 256 16777216 33554432 67105324   # 256 MiB at three chunk sizes
#
# Binaries come from $CARGO_TARGET_DIR/release (default target/release), built first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mib=${1:-2048}
shift || true
chunks=("$@")
[ ${#chunks[@]} -gt 0 ] || chunks=(default)
target=${CARGO_TARGET_DIR:-$root/target}
if [ ! -x node_modules/.bin/anvil ]; then
  npm install --no-audit --no-fund --loglevel=error >&2
fi
cargo build --release -p floe-cli -p floe-node >&2
floe="$target/release/floe"
work=$(mktemp -d /tmp/floe-bench-large.XXXXXX)
devnet_pid=
cleanup() {
  [ -n "$devnet_pid" ] && kill "$devnet_pid" 2>/dev/null && wait "$devnet_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export FLOE_HOME="$work/home" FLOE_CONFIG="$work/devnet/client.toml"
"$floe" devnet --dir "$work/devnet" --port 0 --gateway-port 0 >"$work/devnet.log" 2>&1 &
devnet_pid=$!
for _ in $(seq 1 240); do
  if [ -f "$FLOE_CONFIG" ] && "$floe" info >/dev/null 2>&1; then break; fi
  kill -0 "$devnet_pid" 2>/dev/null || { cat "$work/devnet.log" >&2; exit 1; }
  sleep 0.5
done
"$floe" info >/dev/null
# Random bytes: an all-zero file would store the same chunk over and over.
head -c "$((mib << 20))" /dev/urandom >"$work/file.bin"
rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
wall() { sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1"; }
printf '| command | file | chunk size | peak RSS | wall time |\n| --- | ---: | ---: | ---: | ---: |\n'
for chunk in "${chunks[@]}"; do
  args=()
  [ "$chunk" = default ] || args=(--chunk-size "$chunk")
  # A fresh file per chunk size, so nothing is already stored.
  head -c 4096 /dev/urandom | dd of="$work/file.bin" conv=notrunc status=none
  /usr/bin/time -v "$floe" store "$work/file.bin" "${args[@]}" --json >"$work/store.json" 2>"$work/store.time"
  id=$(sed -n 's/^  "blob_id": "\(0x[0-9a-f]*\)".*/\1/p' "$work/store.json" | head -1)
  printf '| `floe store` | %s MiB | %s | %s MB | %s |\n' "$mib" "$chunk" "$(( $(rss "$work/store.time") / 1000 ))" "$(wall "$work/store.time")"
  /usr/bin/time -v "$floe" read "$id" -o "$work/copy.bin" 2>"$work/read.time"
  cmp "$work/file.bin" "$work/copy.bin"
  printf '| `floe read -o` | %s MiB | %s | %s MB | %s |\n' "$mib" "$chunk" "$(( $(rss "$work/read.time") / 1000 ))" "$(wall "$work/read.time")"
  rm -f "$work/copy.bin"
done
