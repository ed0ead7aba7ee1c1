#!/usr/bin/env bash
# Runs every cargo-fuzz target of core/fuzz for a bounded time each, starting from the committed
# seed corpus (core/fuzz/corpus/<target>/), and fails on the first crash, panic, leak or timeout.
#
#   scripts/fuzz.sh                  # every target, FUZZ_SECS (default 20) seconds each
#   scripts/fuzz.sh wire_sliver      # only the named targets
#   FUZZ_SECS=600 scripts/fuzz.sh    # longer runs
#
# cargo fuzz needs nightly flags; on a stable toolchain RUSTC_BOOTSTRAP=1 enables them. No
# sanitizer (-s none: the code is safe Rust; this is ~3x faster), debug assertions on (overflow
# checks). The fuzz crate builds in its own target directory, core/fuzz/target. New inputs found
# go to a scratch directory, not into the committed corpus; a crashing input is kept in
# core/fuzz/artifacts/<target>/ and printed with the command that reproduces it.
# Regenerate the seeds with: cargo run -p floe-core --example fuzz_corpus -- core/fuzz/corpus
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_dir="$root/core/fuzz"
secs=${FUZZ_SECS:-20}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz (cargo install cargo-fuzz --locked) ..." >&2
  cargo install cargo-fuzz --locked >&2
fi

cd "$fuzz_dir"
export RUSTC_BOOTSTRAP=1
# `cargo fuzz <build|run> <flags> [args...]`: the flags go before the arguments (after `--` they
# would reach libFuzzer).
fuzz() {
  local sub=$1
  shift
  cargo fuzz "$sub" -s none --debug-assertions --target-dir "$fuzz_dir/target" "$@"
}

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

echo "building ${#targets[@]} fuzz targets ..." >&2
start=$(date +%s)
fuzz build >&2
echo "built in $(( $(date +%s) - start ))s" >&2

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
summary=()
for target in "${targets[@]}"; do
  seeds="$fuzz_dir/corpus/$target"
  if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
    echo "error: no seed corpus in $seeds; generate it with: cargo run -p floe-core --example fuzz_corpus -- core/fuzz/corpus" >&2
    exit 1
  fi
  mkdir -p "$scratch/$target" "$fuzz_dir/artifacts/$target"
  log="$scratch/$target.log"
  echo "==> fuzzing $target for ${secs}s" >&2
  if ! fuzz run "$target" "$scratch/$target" "$seeds" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$log" 2>&1; then
    grep -m 5 -B 2 -A 3 "panicked\|ERROR: libFuzzer\|SUMMARY" "$log" >&2 || tail -n 40 "$log" >&2
    echo "error: fuzz target $target failed; the input is in core/fuzz/artifacts/$target/; reproduce with:" >&2
    echo "  cd core/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $target -s none --debug-assertions artifacts/$target/<file>" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  corpus=$(ls "$scratch/$target" | wc -l)
  summary+=("$(printf '%-26s %10s runs  %6s s  cov %5s  new inputs %s' "$target" "${runs:-?}" "$secs" "${cov:-?}" "$corpus")")
done
echo >&2
echo "fuzzing passed ($(( $(date +%s) - start ))s in total):" >&2
printf '  %s\n' "${summary[@]}" >&2
