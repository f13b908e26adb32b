#!/usr/bin/env bash
# A private Wine 8.0 (Debian 12's wine64 + wine32) without dpkg-installing it: the
# system's apt sources and dpkg architectures stay untouched. `apt-get install wine32:i386`
# cannot work on these machines (the mirror's i386 security index is stale, so the
# Multi-Arch version lock cannot be met), so we download the .debs with a private apt
# configuration that never reads the security suite, unpack them and redo by hand the two
# things their maintainer scripts would have done.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/env.sh"
stamp="$DLLGEN_TOOLS/wine.ok.v1"
[ -f "$stamp" ] && [ -x "$WINE64" ] && [ -d "$WINEPREFIX/drive_c" ] && exit 0

log() { echo "wine: $*" >&2; }
work="$DLLGEN_TOOLS/wine-apt"
. "$here/apt.sh"
log "downloading wine packages"
private_apt "$work"
(cd "$work/debs" && apt-get download -qq wine64 wine32:i386 libwine libwine:i386 libz-mingw-w64 2>&1 |
  grep -v unsandboxed || true)

log "unpacking"
rm -rf "$DLLGEN_WINE_ROOT"
mkdir -p "$DLLGEN_WINE_ROOT"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$DLLGEN_WINE_ROOT"; done
rm -rf "$DLLGEN_WINE_ROOT/usr/share/doc" "$DLLGEN_WINE_ROOT/usr/share/man"
# Debian's PE builtins carry DWARF (1.2 GB); stripping keeps the "Wine builtin DLL" marker.
find "$DLLGEN_WINE_ROOT/usr/lib/x86_64-linux-gnu/wine/x86_64-windows" -type f -print0 |
  xargs -0 -n 64 -P "$(nproc)" x86_64-w64-mingw32-strip --strip-debug
find "$DLLGEN_WINE_ROOT/usr/lib/i386-linux-gnu/wine/i386-windows" -type f -print0 |
  xargs -0 -n 64 -P "$(nproc)" i686-w64-mingw32-strip --strip-debug
# The wineserver wrapper hard-codes /usr/lib/wine.
sed -i "s#/usr/lib/wine/#$DLLGEN_WINE_ROOT/usr/lib/wine/#g" "$DLLGEN_WINE_ROOT/usr/lib/wine/wineserver"
# libwine's postinst installs zlib1.dll (needed by user32) as a Wine builtin: the marker
# "Wine builtin DLL" sits at offset 64, in the DOS stub.
for pair in "x86_64-linux-gnu x86_64-windows x86_64" "i386-linux-gnu i386-windows i686"; do
  set -- $pair
  dir="$DLLGEN_WINE_ROOT/usr/lib/$1/wine/$2"
  src="$DLLGEN_WINE_ROOT/usr/$3-w64-mingw32/lib/zlib1.dll"
  [ -d "$dir" ] && [ -f "$src" ] || continue
  { head -c 64 "$src"; printf 'Wine builtin DLL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0'; tail -c +97 "$src"; } >"$dir/zlib1.dll"
done

log "creating prefix"
rm -rf "$WINEPREFIX"
"$WINE64" wineboot --init >/dev/null 2>&1 </dev/null
"$WINESERVER" -w
shim="$DLLGEN_TOOLS/wine-shim"
mkdir -p "$shim"
i686-w64-mingw32-gcc -O2 -shared -s -Wl,--kill-at,--enable-stdcall-fixup -o "$shim/bcryptprimitives32.dll" \
  "$here/wine-shim/processprng.c" "$here/wine-shim/bcryptprimitives.def" -ladvapi32
x86_64-w64-mingw32-gcc -O2 -shared -s -o "$shim/bcryptprimitives64.dll" \
  "$here/wine-shim/processprng.c" "$here/wine-shim/bcryptprimitives.def" -ladvapi32
cp "$shim/bcryptprimitives64.dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
cp "$shim/bcryptprimitives32.dll" "$WINEPREFIX/drive_c/windows/syswow64/bcryptprimitives.dll"
rm -rf "$work/debs" "$work/archives"
touch "$stamp"
log "ready ($(du -sh "$DLLGEN_TOOLS" | cut -f1))"
