#!/usr/bin/env bash
# Real third-party libraries for the test suite, from Debian 12's packages (downloaded
# with the private apt configuration, unpacked, never installed or vendored): zlib and
# sqlite3, each 32-bit (`zlib1g:i386`, `libsqlite3-0:i386`) for the generated host, 64-bit
# (`:amd64`) for the differential checks, with their headers (`zlib1g-dev`,
# `libsqlite3-dev`). Cached in $DLLGEN_TOOLS/real; the repository
# reaches it through tests/real (a link, ignored by git).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/env.sh"
. "$here/apt.sh"
real="$DLLGEN_TOOLS/real"
stamp="$real/zlib.ok.v1"
link="$here/../real"
if [ ! -f "$stamp" ]; then
  echo "libs: downloading zlib" >&2
  work="$DLLGEN_TOOLS/libs-apt"
  private_apt "$work"
  rm -rf "$work/debs" && mkdir -p "$work/debs"
  (cd "$work/debs" && apt-get download -qq zlib1g:i386 zlib1g:amd64 zlib1g-dev:amd64 2>&1 | grep -v unsandboxed || true)
  rm -rf "$real/zlib" && mkdir -p "$real/zlib"/{i386,amd64,x}
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$real/zlib/x"; done
  # One folder per architecture, each library under its soname.
  cp -L "$real/zlib/x/lib/i386-linux-gnu/libz.so.1" "$real/zlib/i386/libz.so.1"
  cp -L "$real/zlib/x/lib/x86_64-linux-gnu/libz.so.1" "$real/zlib/amd64/libz.so.1"
  mkdir -p "$real/zlib/include" && cp "$real/zlib/x/usr/include/"z*.h "$real/zlib/include/"
  rm -rf "$real/zlib/x" "$work/debs" "$work/archives"
  touch "$stamp"
fi
stamp="$real/sqlite3.ok.v1"
if [ ! -f "$stamp" ]; then
  echo "libs: downloading sqlite3" >&2
  work="$DLLGEN_TOOLS/libs-apt"
  private_apt "$work"
  rm -rf "$work/debs" && mkdir -p "$work/debs"
  (cd "$work/debs" && apt-get download -qq libsqlite3-0:i386 libsqlite3-0:amd64 libsqlite3-dev:amd64 2>&1 | grep -v unsandboxed || true)
  rm -rf "$real/sqlite3" && mkdir -p "$real/sqlite3"/{i386,amd64,x}
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$real/sqlite3/x"; done
  cp -L "$real/sqlite3/x/usr/lib/i386-linux-gnu/libsqlite3.so.0" "$real/sqlite3/i386/libsqlite3.so.0"
  cp -L "$real/sqlite3/x/usr/lib/x86_64-linux-gnu/libsqlite3.so.0" "$real/sqlite3/amd64/libsqlite3.so.0"
  mkdir -p "$real/sqlite3/include" && cp "$real/sqlite3/x/usr/include/"sqlite3*.h "$real/sqlite3/include/"
  rm -rf "$real/sqlite3/x" "$work/debs" "$work/archives"
  touch "$stamp"
fi
# zlib1.dll for Windows (libz-mingw-w64, 32- and 64-bit): wine.sh downloaded it with Wine.
for arch in win32:i686 win64:x86_64; do
  dst="$real/zlib/${arch%%:*}/zlib1.dll"
  src="$DLLGEN_WINE_ROOT/usr/${arch##*:}-w64-mingw32/lib/zlib1.dll"
  if [ ! -f "$dst" ] || ! cmp -s "$src" "$dst"; then
    mkdir -p "$(dirname "$dst")" && cp "$src" "$dst"
  fi
done
# kernel32.dll, advapi32.dll and version.dll (Wine's 32-bit builds, from the prefix wine.sh made):
# specs/kernel32.yaml, specs/advapi32.yaml and specs/version.yaml read their export tables.
mkdir -p "$real/win32"
for dll in kernel32.dll advapi32.dll version.dll; do
  src="$WINEPREFIX/drive_c/windows/syswow64/$dll"
  if [ ! -f "$real/win32/$dll" ] || ! cmp -s "$src" "$real/win32/$dll"; then
    cp "$src" "$real/win32/$dll"
  fi
done
[ -L "$link" ] || ln -sfn "$real" "$link"
