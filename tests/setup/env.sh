# Sourced by the setup and test scripts: where the private tools live and how to run Wine.
# Everything lives outside the repository so fresh clones reuse one install.
export DLLGEN_TOOLS=${DLLGEN_TOOLS:-/opt/dllgen-tools}
export DLLGEN_WINE_ROOT=${DLLGEN_WINE_ROOT:-$DLLGEN_TOOLS/wine-root}
export WINEPREFIX=${WINEPREFIX:-$DLLGEN_TOOLS/wine-prefix}
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono/Gecko install prompts.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
# wine64 runs 64-bit PE and execs the 32-bit loader for 32-bit PE; either works for both.
export WINE64="$DLLGEN_WINE_ROOT/usr/lib/wine/wine64"
export WINE32="$DLLGEN_WINE_ROOT/usr/lib/wine/wine"
export WINESERVER="$DLLGEN_WINE_ROOT/usr/lib/wine/wineserver64"
export CARGO_TARGET_I686_PC_WINDOWS_GNU_RUNNER=$WINE32
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$WINE64
unset DISPLAY
