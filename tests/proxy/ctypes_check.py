"""Loads zlib and sqlite3 with ctypes from the paths given (Debian's 64-bit builds, or the
dllgen proxies) and prints what they answer; tests/tests/proxy.rs requires the same output
from both. The audience of msl-loadlib: a Python program calling a library by ctypes."""
import ctypes
import sys

z = ctypes.CDLL(sys.argv[1])
z.zlibVersion.restype = ctypes.c_char_p
print("zlib", z.zlibVersion().decode())
data = b"".join(b"line %d of a ctypes test\n" % i for i in range(5000))
z.crc32.restype = ctypes.c_ulong
z.crc32.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_uint]
z.adler32.restype = ctypes.c_ulong
z.adler32.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_uint]
print("crc32 %08x adler32 %08x" % (z.crc32(0, data, len(data)), z.adler32(1, data, len(data))))
z.compressBound.restype = ctypes.c_ulong
bound = z.compressBound(ctypes.c_ulong(len(data)))
out = ctypes.create_string_buffer(bound)
out_len = ctypes.c_ulong(bound)
r = z.compress2(out, ctypes.byref(out_len), data, ctypes.c_ulong(len(data)), 9)
print("compress2", r, out_len.value, "crc %08x" % z.crc32(0, out.raw[: out_len.value], out_len.value))
back = ctypes.create_string_buffer(len(data))
back_len = ctypes.c_ulong(len(data))
r = z.uncompress(back, ctypes.byref(back_len), out, out_len)
print("uncompress", r, back_len.value, back.raw[: back_len.value] == data)

s = ctypes.CDLL(sys.argv[2])
s.sqlite3_libversion.restype = ctypes.c_char_p
print("sqlite3", s.sqlite3_libversion().decode())
db = ctypes.c_void_p()
print("open", s.sqlite3_open(b":memory:", ctypes.byref(db)))
s.sqlite3_exec.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
ROW = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p))
rows = []


def row(ctx, n, values, names):
    rows.append(tuple((names[i].decode(), None if values[i] is None else values[i].decode()) for i in range(n)))
    return 0


callback = ROW(row)
sql = b"create table t(k text, v integer); insert into t values ('a', 1), ('b', NULL), ('c', 3);"
print("exec", s.sqlite3_exec(db, sql, None, None, None))
print("exec", s.sqlite3_exec(db, b"select k, v, v * 2 as w from t order by k", ctypes.cast(callback, ctypes.c_void_p), None, None))
for r in rows:
    print("  row", r)
s.sqlite3_errmsg.restype = ctypes.c_char_p
s.sqlite3_errmsg.argtypes = [ctypes.c_void_p]
print("exec bad", s.sqlite3_exec(db, b"select * from nowhere", None, None, None), s.sqlite3_errmsg(db).decode())
s.sqlite3_close.argtypes = [ctypes.c_void_p]
print("close", s.sqlite3_close(db))
