#!/usr/bin/env bash
# The whole test suite, set-up included (the README's second command; .ci/run calls it):
# formatting, lints, unit and end-to-end tests (real 32-bit processes, Wine), and a bounded
# fuzz run of the binary reader.
#   DLLGEN_FUZZ_SECONDS=N  length of the fuzz run (default 60; 0 skips it)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash tests/setup/setup.sh
. tests/setup/env.sh

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The code that only runs as a 32-bit or Windows program (runtime, hosts, the demo app).
for target in i686-unknown-linux-gnu i686-pc-windows-gnu x86_64-pc-windows-gnu; do
  cargo clippy --quiet --target "$target" -p dllgen-runtime -p dllgen-test-host -p demo-host \
    -p demo-win-host -p demo-app -p kinds-host -p kinds-linux-host -p kinds-app -p zlib-host -p zlib-win-host -p sqlite3-host -p kernel32-host -p advapi32-host -p version-host -p win32-app -p 'k-*' -- -D warnings
done
# The runtime with per-call tracing compiled in, on each target.
for target in x86_64-unknown-linux-gnu i686-unknown-linux-gnu i686-pc-windows-gnu x86_64-pc-windows-gnu; do
  cargo clippy --quiet --target "$target" -p dllgen-runtime --features trace -- -D warnings
done
# The Windows proxy libraries (64-bit DLLs).
cargo clippy --quiet --target x86_64-pc-windows-gnu -p demo-win-proxy -p zlib-win-proxy -- -D warnings
echo "== cargo package"
# dllgen and its runtime as crates.io would get them: templates and the runtime's source
# inside the dllgen package (codegen/templates and codegen/runtime-src are links), each
# built from its unpacked archive.
cargo package --quiet --offline --allow-dirty --target-dir target/rig -p dllgen-runtime -p dllgen
echo "== cargo test"
log=$(mktemp)
cargo test --workspace 2>&1 | tee "$log"
# The runtime's i686-only code (the stack-checked call) runs as a 32-bit test binary.
cargo test -p dllgen-runtime --lib --target i686-unknown-linux-gnu 2>&1 | tee -a "$log"
echo "== fuzz"
bash tests/fuzz.sh "${DLLGEN_FUZZ_SECONDS:-60}"
# One closing line over every test binary (cargo prints one per binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
