#!/usr/bin/env bash
# OPTIONAL benchmark baseline, not part of the test suite: msl-loadlib (PyPI) calling a
# 32-bit Linux shared library from 64-bit Python through its Client64/Server32 pair (a
# frozen 32-bit Python server; each request pickles its arguments to a temp file and
# signals over HTTP on localhost). Measures the median time of a null call (21 rounds of
# 200 calls) and of one call that sends 1 MiB in and gets 1 MiB back (median of 11), to
# compare with `cargo bench -p dllgen-tests --bench runtime`.
#
# Usage: bash tests/benches/msl_loadlib.sh   (any directory; MSL_VENV overrides the venv)
# Installs msl-loadlib into a private venv, plus Debian's 32-bit zlib (lib32z1, which the
# server32-linux binary links to) unpacked into that venv, not dpkg-installed.
# When something optional is missing it prints `msl-loadlib: skipped: <reason>`, exits 0.
set -euo pipefail

skip() { echo "msl-loadlib: skipped: $*"; exit 0; }
venv=${MSL_VENV:-/opt/dllgen-tools/msl-venv}
py=$venv/bin/python
stamp=$venv/.msl-loadlib.ok

# 1. The venv, msl-loadlib and a runnable server32-linux (quick when the stamp is there).
export LD_LIBRARY_PATH=$venv/lib32${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if [ ! -f "$stamp" ] || [ ! -x "$py" ]; then
  python3 -m venv "$venv" >/dev/null 2>&1 ||
    skip "python3 -m venv $venv failed (Debian: apt-get install python3-venv)"
  "$py" -m pip install -q --disable-pip-version-check msl-loadlib >/dev/null 2>&1 ||
    skip "pip install msl-loadlib failed (PyPI unreachable?)"
  server=$("$py" -c 'import msl.loadlib, os; print(os.path.dirname(msl.loadlib.__file__))')/server32-linux
  if ! "$server" --version >/dev/null 2>&1; then
    deb=$(mktemp -d)
    (cd "$deb" && apt-get download -qq lib32z1 >/dev/null 2>&1) && dpkg-deb -x "$deb"/lib32z1_*.deb "$deb/x" &&
      mkdir -p "$venv/lib32" && cp -a "$deb"/x/usr/lib32/libz.so* "$venv/lib32/" || true
    rm -rf "$deb"
    err=$("$server" --version 2>&1 >/dev/null) || { err=${err#"$server": }
      skip "server32-linux does not run: ${err%%$'\n'*} (Debian's lib32z1 has the 32-bit libz.so.1)"; }
  fi
  touch "$stamp"
fi

# 2. The 32-bit library under test.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/bench32.c" <<'C'
int null_call(void) { return 0; }
int fill(unsigned char *out, int n) { for (int i = 0; i < n; i++) out[i] = (unsigned char)i; return n; }
int sum(const unsigned char *in, int n) { int s = 0; for (int i = 0; i < n; i++) s += in[i]; return s; }
C
gcc -m32 -shared -fPIC -O2 -o "$tmp/libbench32.so" "$tmp/bench32.c" 2>"$tmp/gcc.err" ||
  skip "gcc -m32 failed: $(head -n1 "$tmp/gcc.err") (Debian: gcc-multilib)"

# 3. Server32 subclass (runs in the 32-bit server) and the Client64 side.
cat >"$tmp/bench_server32.py" <<'PY'
from ctypes import c_char_p, c_int, c_void_p, create_string_buffer
from msl.loadlib import Server32

class BenchServer(Server32):
    def __init__(self, host, port, lib):
        super().__init__(lib, 'cdll', host, port)
        self.lib.sum.argtypes = [c_char_p, c_int]
        self.lib.fill.argtypes = [c_void_p, c_int]

    def null_call(self):
        return self.lib.null_call()

    def roundtrip(self, data):
        s = self.lib.sum(data, len(data))
        out = create_string_buffer(len(data))
        self.lib.fill(out, len(data))
        return s, out.raw
PY
cat >"$tmp/bench_client64.py" <<'PY'
import os, statistics, sys, time
from msl.loadlib import Client64

class BenchClient(Client64):
    def __init__(self, here):
        super().__init__(os.path.join(here, 'bench_server32.py'), lib=os.path.join(here, 'libbench32.so'))

    def null_call(self):
        return self.request32('null_call')

    def roundtrip(self, data):
        return self.request32('roundtrip', data)

def median_ns(rounds, per_round, f):
    f()
    times = []
    for _ in range(rounds):
        t = time.perf_counter_ns()
        for _ in range(per_round):
            f()
        times.append((time.perf_counter_ns() - t) / per_round)
    return statistics.median(times)

with BenchClient(sys.argv[1]) as c:
    data = bytes(range(256)) * 4096  # 1 MiB
    s, out = c.roundtrip(data)
    assert c.null_call() == 0 and s == sum(data) and out == data, 'wrong results from the 32-bit side'
    null = median_ns(21, 200, c.null_call)
    big = median_ns(11, 1, lambda: c.roundtrip(data))
print(f'msl-loadlib: null call {null / 1e3:.1f} us')
print(f'msl-loadlib: 1 MiB in + 1 MiB out {big / 1e3:.1f} us ({2 * len(data) / big:.3f} GB/s)')
PY
"$py" "$tmp/bench_client64.py" "$tmp" 2>"$tmp/py.err" ||
  skip "benchmark failed: $(grep -v '^ ' "$tmp/py.err" | tail -n1)"
