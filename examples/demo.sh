#!/usr/bin/env bash
# The README's first command: set-up, then `dllgen audit` on a bundled 32-bit DLL (built
# from tests/fixtures/stdcall.c with mingw), the verdicts for its 64-bit counterpart and
# a .NET stand-in, then `dllgen check` on a spec and the model it yields.
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

# The front half of the generator: a spec (tests/specs/kinds.yaml) checked against its
# header and DLL, and the model the generated crates will be built from.
demo="$root/target/demo"
rm -rf "$demo" && mkdir -p "$demo"
ln -s "$root/tests/fixtures" "$demo/fixtures"
ln -s "$fixtures" "$demo/lib"
cp tests/specs/kinds.yaml "$demo/"
echo
echo "\$ dllgen check kinds.yaml --dump-model"
(cd "$demo" && "$root/$dllgen" check kinds.yaml --dump-model)
