#!/usr/bin/env bash
# Installs everything dllgen's demo and test suite need on a Debian 12 machine (as root):
# C toolchains for 32-bit ELF and 32/64-bit PE, libclang, the Rust targets, a private Wine
# able to run both Windows architectures, and cargo-fuzz.
#
# Idempotent and quick when everything is present (each step checks before it acts).
# Usage: bash tests/setup/setup.sh [--no-wine] [--no-fuzz]
# Afterwards, `source tests/setup/env.sh` exports WINE32/WINE64/WINEPREFIX for the tests.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/setup/env.sh
. "$here/env.sh"

want_wine=1
want_fuzz=1
for arg in "$@"; do
  case "$arg" in
    --no-wine) want_wine=0 ;;
    --no-fuzz) want_fuzz=0 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

log() { echo "setup: $*" >&2; }

# 1. Debian packages. `apt-get update` may exit non-zero on this mirror (a stale security
# index); that must not stop us, the install step tells whether it really worked.
apt_pkgs=(gcc g++ gcc-multilib gcc-mingw-w64-i686 gcc-mingw-w64-x86-64 g++-mingw-w64-i686 binutils-mingw-w64-i686
  binutils-mingw-w64-x86-64 libclang-dev clang libunwind8 bc ca-certificates)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || log "apt-get update reported errors (ignored)"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Rust targets: the 32-bit host sides and the Windows client side.
targets=(i686-unknown-linux-gnu i686-pc-windows-gnu x86_64-pc-windows-gnu)
installed=$(rustup target list --installed)
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$installed" || { log "rustup target add $t"; rustup target add "$t" >/dev/null; }
done

# 3. Wine (wine64 + wine32 from Debian 12) unpacked into a private root.
if [ "$want_wine" = 1 ]; then
  bash "$here/wine.sh"
fi

# 4. Real third-party libraries (zlib) from Debian's packages, for the differential tests.
bash "$here/libs.sh"

# 5. cargo-fuzz for the bounded fuzz runs of the test command.
if [ "$want_fuzz" = 1 ] && ! cargo fuzz --version >/dev/null 2>&1; then
  log "cargo install cargo-fuzz"
  cargo install --locked --quiet cargo-fuzz
fi
log "ready"
