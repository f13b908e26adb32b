#!/usr/bin/env bash
# Builds the demo library into examples/demo/build: libdemo32.so (gcc -m32), libdemo64.so
# (native, for comparisons), demo32.dll (mingw i686), demo64.dll (mingw x86_64, for
# comparisons). Quick when up to date.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/build"
mkdir -p "$out"
build() { # output compiler flags...
  local target=$1
  shift
  if [ ! -f "$out/$target" ] || [ "$here/demo.c" -nt "$out/$target" ] || [ "$here/demo.h" -nt "$out/$target" ] || [ "$here/build.sh" -nt "$out/$target" ]; then
    # Built under its own name in a folder of its own, then moved: a DLL records its file
    # name, which programs linked with it import.
    local tmp="$out/.tmp.$$"
    mkdir -p "$tmp"
    "$@" -o "$tmp/$target" "$here/demo.c" && mv "$tmp/$target" "$out/$target"
    rmdir "$tmp"
  fi
}
# SSE arithmetic in the 32-bit builds: the tests compare doubles bit for bit with the
# 64-bit build (x87's 80-bit intermediates round differently).
build libdemo32.so gcc -m32 -msse2 -mfpmath=sse -O2 -shared -fPIC -fvisibility=hidden
build libdemo64.so gcc -O2 -shared -fPIC -fvisibility=hidden
build demo32.dll i686-w64-mingw32-gcc -msse2 -mfpmath=sse -O2 -shared -static-libgcc
build demo64.dll x86_64-w64-mingw32-gcc -O2 -shared -static-libgcc
