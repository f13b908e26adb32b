#!/usr/bin/env bash
# The README's first command: set-up, then `dllgen audit` on a bundled 32-bit DLL (built
# from tests/fixtures/stdcall.c with mingw), then the same for its 64-bit counterpart and
# a .NET stand-in, to show the verdicts.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash tests/setup/setup.sh --no-wine --no-fuzz
cargo build --quiet -p dllgen -p dllgen-tests
fixtures=$(cargo run --quiet -p dllgen-tests --bin fixture-dir)
dllgen=target/debug/dllgen

echo "\$ dllgen audit fx_stdcall.dll"
(cd "$fixtures" && "$root/$dllgen" audit fx_stdcall.dll)
for f in fx_cdecl64.dll fx_managed.dll; do
  echo
  echo "\$ dllgen audit $f | tail -1"
  (cd "$fixtures" && "$root/$dllgen" audit "$f" | tail -n 1)
done
