#!/usr/bin/env bash
# The README's first command: set-up, then the main job on the bundled example. The demo
# library (examples/demo/demo.c) is built 32-bit, `dllgen generate specs/demo.yaml` writes
# its host and client crates into generated/ (unchanged when they are up to date), the host
# is built for i686 and a 64-bit program (examples/demo-app) calls the library through it;
# then a C program (examples/demo-c) calls it through the 64-bit proxy library. Last,
# `dllgen audit` on the library's 32-bit Windows build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash tests/setup/setup.sh --no-wine --no-fuzz
bash examples/demo/build.sh
cargo build --quiet -p dllgen
dllgen=$root/target/debug/dllgen

# In this repository the crates name runtime/ (elsewhere dllgen writes the runtime beside
# them).
echo "\$ dllgen generate specs/demo.yaml --runtime runtime"
"$dllgen" generate specs/demo.yaml --runtime runtime

# The host is a 32-bit program; the client (in demo-app) is 64-bit.
cargo build --quiet -p demo-host --target i686-unknown-linux-gnu
cargo build --quiet -p demo-app
host=$root/target/i686-unknown-linux-gnu/debug/demo-host
echo
echo "\$ dllgen audit demo-host | head -1"
"$dllgen" audit "$host" | sed -n 1p
echo
echo "\$ demo-app"
DEMO_HOST=$host DEMO_LIBRARY=$root/examples/demo/build/libdemo32.so "$root/target/debug/demo-app"


# The same library for a C program: the 64-bit proxy libdemo.so (generated/demo-proxy)
# exports demo.h's functions, and runs each call in the host beside it.
cargo build --quiet -p demo-proxy
proxy=$root/target/demo-proxy
mkdir -p "$proxy"
cp "$root/target/debug/libdemo.so" "$host" "$proxy/"
ln -sf libdemo.so "$proxy/libdemo.so.1"
echo
echo "\$ cc examples/demo-c/main.c -ldemo && ./demo-c   # linked with the proxy"
gcc -Wall -O1 -I examples/demo examples/demo-c/main.c -L "$proxy" -ldemo -Wl,-rpath,"$proxy" -o "$proxy/demo-c"
DEMO_LIBRARY=$root/examples/demo/build/libdemo32.so "$proxy/demo-c"

echo
echo "\$ dllgen audit demo32.dll | tail -3"
"$dllgen" audit examples/demo/build/demo32.dll | tail -n 3
