#!/usr/bin/env bash
# Fuzzes, for SECONDS in all, the binary reader behind `dllgen audit` (seeded with the
# fixture binaries; two thirds of the time) and the runtime's frame decoder and host
# serving loop (one third). Fails on any crash, panic, input taking over 10 s, or
# allocation over 256 MiB. cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the stable
# toolchain accept them.
# Usage: bash tests/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
[ "$seconds" -gt 0 ] || { echo "fuzz: skipped"; exit 0; }
cd "$root"
mkdir -p codegen/fuzz/corpus/audit codegen/fuzz/corpus/frames
fixtures=$(cargo run --quiet -p dllgen-tests --bin fixture-dir)
for f in "$fixtures"/*; do
  # The 10,000-export DLL is too large a seed to mutate quickly.
  case "$f" in */fx_big.dll) continue ;; esac
  cp "$f" "codegen/fuzz/corpus/audit/seed-$(basename "$f")"
done

run() { # target seconds
  local log
  log=$(mktemp)
  if (cd codegen && RUSTC_BOOTSTRAP=1 cargo fuzz run "$1" --sanitizer none "fuzz/corpus/$1" -- \
    -max_total_time="$2" -timeout=10 -malloc_limit_mb=256 -rss_limit_mb=2048 >"$log" 2>&1); then
    grep -E '^Done [0-9]+ runs' "$log" | sed "s/^/fuzz $1: /"
    rm -f "$log"
  else
    tail -n 60 "$log"
    echo "fuzz $1: FAILED (full log: $log; crashing inputs in codegen/fuzz/artifacts/$1)" >&2
    exit 1
  fi
}
run audit $((seconds * 2 / 3 > 0 ? seconds * 2 / 3 : 1))
run frames $((seconds / 3 > 0 ? seconds / 3 : 1))
