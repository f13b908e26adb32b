#!/usr/bin/env bash
# Fuzzes the binary reader (codegen/fuzz) for SECONDS, seeded with the fixture binaries.
# Fails on any crash, panic, leak of time (-timeout) or allocation over 256 MiB.
# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
# Usage: bash tests/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
[ "$seconds" -gt 0 ] || { echo "fuzz: skipped"; exit 0; }
cd "$root"
corpus=codegen/fuzz/corpus/audit
mkdir -p "$corpus"
fixtures=$(cargo run --quiet -p dllgen-tests --bin fixture-dir)
for f in "$fixtures"/*; do
  # The 10,000-export DLL is too large a seed to mutate quickly.
  case "$f" in */fx_big.dll) continue ;; esac
  cp "$f" "$corpus/seed-$(basename "$f")"
done
log=$(mktemp)
cd codegen
if RUSTC_BOOTSTRAP=1 cargo fuzz run audit --sanitizer none "fuzz/corpus/audit" -- \
  -max_total_time="$seconds" -timeout=10 -malloc_limit_mb=256 -rss_limit_mb=2048 >"$log" 2>&1; then
  grep -E '^Done [0-9]+ runs' "$log" | sed 's/^/fuzz: /'
  rm -f "$log"
else
  tail -n 60 "$log"
  echo "fuzz: FAILED (full log: $log; crashing inputs in codegen/fuzz/artifacts/audit)" >&2
  exit 1
fi
