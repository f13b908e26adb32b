"""Times demo_add(40, 2) called from Python through ctypes (median of 21 rounds of 2000
calls) on each library path given: the demo's own 64-bit build (ctypes' own cost) and the
dllgen proxy (which runs it in the 32-bit build). Prints `ctypes <path> <microseconds>`.
Run by `cargo bench -p dllgen-tests --bench runtime`, next to msl-loadlib's figures."""
import ctypes
import statistics
import sys
import time

for path in sys.argv[1:]:
    lib = ctypes.CDLL(path)
    add = lib.demo_add
    add.argtypes = [ctypes.c_int32, ctypes.c_int32]
    add.restype = ctypes.c_int32
    assert add(40, 2) == 42
    rounds = []
    for _ in range(21):
        t = time.perf_counter()
        for _ in range(2000):
            add(40, 2)
        rounds.append((time.perf_counter() - t) / 2000 * 1e6)
    print("ctypes %s %.3f" % (path, statistics.median(rounds)))
