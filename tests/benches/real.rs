//! Real libraries through their generated clients against the same work done in process
//! on the 64-bit build of the same library, measured in one run (docs/PERFORMANCE.md):
//! zlib's compress2/uncompress of 8 MiB, and a sqlite3 SELECT of 10,000 rows read column
//! by column. `cargo bench -p dllgen-tests --bench real` (after tests/setup/setup.sh, which
//! fetches both libraries). Release builds of the hosts and of this bench.

#[path = "../kinds-app/src/direct.rs"]
mod direct;

use direct::Direct;
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::null_mut;
use std::time::{Duration, Instant};

/// Median of `rounds` timings of `f` (after one warm-up run).
fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut v: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}

fn row(what: &str, d: Duration, base: Duration) {
    println!("| {what} | {:.2} | {:.2} |", d.as_secs_f64() * 1e3, d.as_secs_f64() / base.as_secs_f64());
}

/// Data that compresses somewhat (as tests/zlib-app's).
fn data(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 7 < 3 {
                b"zlib"[i % 4]
            } else {
                (x % 23) as u8
            }
        })
        .collect()
}

fn zlib(real: &std::path::Path) {
    let host = dllgen_tests::build_bin_release("zlib-host", "zlib-host", "i686-unknown-linux-gnu");
    let mut config = zlib_client::Config::new(zlib_client::HostPath::Explicit(host), 0);
    config.envs.push(("ZLIB_LIBRARY".into(), real.join("zlib/i386/libz.so.1").into()));
    let z = zlib_client::Zlib::with_config(config);
    let d = Direct::open(real.join("zlib/amd64/libz.so.1").to_str().unwrap());
    let compress2: extern "C" fn(*mut u8, *mut u64, *const u8, u64, i32) -> i32 = d.sym("compress2");
    let uncompress: extern "C" fn(*mut u8, *mut u64, *const u8, u64) -> i32 = d.sym("uncompress");
    let src = data(8 << 20);
    let bound = z.compressBound(src.len() as u32).unwrap() as usize;
    let mut packed = Vec::new();
    let direct_c = median(7, || {
        let mut out = vec![0u8; bound];
        let mut len = bound as u64;
        assert_eq!(compress2(out.as_mut_ptr(), &mut len, src.as_ptr(), src.len() as u64, 6), 0);
        out.truncate(len as usize);
        packed = out;
    });
    let client_c = median(7, || {
        let (status, out) = z.compress2(bound, &src, 6).unwrap();
        assert_eq!((status, out.len()), (0, packed.len()));
    });
    let direct_u = median(7, || {
        let mut out = vec![0u8; src.len()];
        let mut len = src.len() as u64;
        assert_eq!(uncompress(out.as_mut_ptr(), &mut len, packed.as_ptr(), packed.len() as u64), 0);
        assert_eq!(len as usize, src.len());
    });
    let client_u = median(7, || {
        let (status, out) = z.uncompress(src.len(), &packed).unwrap();
        assert_eq!((status, out.len()), (0, src.len()));
    });
    // Streaming: inflate in 64 KiB pieces of input with 64 KiB of room per call, through
    // the resident z_stream (about 200 calls for 8 MiB), against the same loop in process.
    let inflate_init: extern "C" fn(*mut Z64, *const c_char, i32) -> i32 = d.sym("inflateInit_");
    let inflate: extern "C" fn(*mut Z64, i32) -> i32 = d.sym("inflate");
    let inflate_end: extern "C" fn(*mut Z64) -> i32 = d.sym("inflateEnd");
    let version: extern "C" fn() -> *const c_char = d.sym("zlibVersion");
    const PIECE: usize = 64 << 10;
    let direct_s = median(7, || {
        // SAFETY: all zeros is zlib's initial state.
        let mut st: Z64 = unsafe { std::mem::zeroed() };
        assert_eq!(inflate_init(&mut st, version(), std::mem::size_of::<Z64>() as i32), 0);
        let (mut total, mut out) = (0usize, vec![0u8; PIECE]);
        for piece in packed.chunks(PIECE) {
            st.next_in = piece.as_ptr();
            st.avail_in = piece.len() as u32;
            loop {
                st.next_out = out.as_mut_ptr();
                st.avail_out = PIECE as u32;
                let rc = inflate(&mut st, 0);
                total += PIECE - st.avail_out as usize;
                if rc == 1 || st.avail_in == 0 && st.avail_out != 0 {
                    break;
                }
            }
        }
        inflate_end(&mut st);
        assert_eq!(total, src.len());
    });
    let client_s = median(7, || {
        let mut st = zlib_client::ZStreamS::default();
        assert_eq!(z.inflateInit_(&mut st), Ok(0));
        let mut total = 0usize;
        for piece in packed.chunks(PIECE) {
            st.next_in = piece.to_vec();
            loop {
                st.avail_out = PIECE as u32;
                let rc = z.inflate(&mut st, 0).unwrap();
                total += st.next_out.len();
                if rc == 1 || st.next_in.is_empty() && st.avail_out != 0 {
                    break;
                }
            }
        }
        assert_eq!(z.inflateEnd(&mut st), Ok(0));
        assert_eq!(total, src.len());
    });
    println!("\nzlib 1.2.13, 8 MiB (compresses to {} bytes), level 6; median of 7", packed.len());
    println!("| measurement | ms | × in-process 64-bit |\n|---|---|---|");
    row("compress2, in process (64-bit zlib)", direct_c, direct_c);
    row("compress2, generated client (32-bit zlib in its host)", client_c, direct_c);
    row("uncompress, in process (64-bit zlib)", direct_u, direct_u);
    row("uncompress, generated client", client_u, direct_u);
    row("inflate in 64 KiB pieces, in process (64-bit zlib)", direct_s, direct_s);
    row("inflate in 64 KiB pieces, generated client (resident z_stream)", client_s, direct_s);
}

/// `z_stream` in the 64-bit build (Linux: `uLong` is 64-bit).
#[repr(C)]
struct Z64 {
    next_in: *const u8,
    avail_in: u32,
    total_in: u64,
    next_out: *mut u8,
    avail_out: u32,
    total_out: u64,
    msg: *const c_char,
    state: P,
    zalloc: usize,
    zfree: usize,
    opaque: usize,
    data_type: i32,
    adler: u64,
    reserved: u64,
}

type P = *mut c_void;

fn sqlite3(real: &std::path::Path) {
    use sqlite3_client::{SQLITE_DONE, SQLITE_OK, SQLITE_OPEN_CREATE, SQLITE_OPEN_READWRITE, SQLITE_ROW};
    let host = dllgen_tests::build_bin_release("sqlite3-host", "sqlite3-host", "i686-unknown-linux-gnu");
    let mut config = sqlite3_client::Config::new(sqlite3_client::HostPath::Explicit(host), 0);
    config.envs.push(("SQLITE3_LIBRARY".into(), real.join("sqlite3/i386/libsqlite3.so.0").into()));
    let s = sqlite3_client::Sqlite3::with_config(config);
    let d = Direct::open(real.join("sqlite3/amd64/libsqlite3.so.0").to_str().unwrap());
    let open_v2: extern "C" fn(*const c_char, *mut P, i32, *const c_char) -> i32 = d.sym("sqlite3_open_v2");
    let exec: extern "C" fn(P, *const c_char, P, P, *mut *mut c_char) -> i32 = d.sym("sqlite3_exec");
    let prepare: extern "C" fn(P, *const c_char, i32, *mut P, *mut *const c_char) -> i32 =
        d.sym("sqlite3_prepare_v2");
    let step: extern "C" fn(P) -> i32 = d.sym("sqlite3_step");
    let finalize: extern "C" fn(P) -> i32 = d.sym("sqlite3_finalize");
    let column_int64: extern "C" fn(P, i32) -> i64 = d.sym("sqlite3_column_int64");
    let column_double: extern "C" fn(P, i32) -> f64 = d.sym("sqlite3_column_double");
    let column_text: extern "C" fn(P, i32) -> *const c_char = d.sym("sqlite3_column_text");
    let column_blob: extern "C" fn(P, i32) -> *const u8 = d.sym("sqlite3_column_blob");
    let column_bytes: extern "C" fn(P, i32) -> i32 = d.sym("sqlite3_column_bytes");

    // The same 10,000 rows on both sides (one statement; not timed).
    let fill = "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
        INSERT INTO t SELECT i, 'row ' || i || ' of the benchmark', i / 7.0, randomblob(32) FROM n;";
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    let memory = CString::new(":memory:").unwrap();
    let mut ndb: P = null_mut();
    assert_eq!(open_v2(memory.as_ptr(), &mut ndb, flags, std::ptr::null()), SQLITE_OK);
    assert_eq!(
        exec(ndb, CString::new(fill).unwrap().as_ptr(), null_mut(), null_mut(), null_mut()),
        SQLITE_OK
    );
    let (status, db) = s.sqlite3_open_v2(":memory:", flags, None).unwrap();
    assert_eq!(status, SQLITE_OK);
    assert_eq!(s.sqlite3_exec(db, fill, None).unwrap(), (SQLITE_OK, None));

    let select = "SELECT id, name, score, data FROM t";
    let c_select = CString::new(select).unwrap();
    let direct = median(7, || {
        let mut st: P = null_mut();
        assert_eq!(prepare(ndb, c_select.as_ptr(), -1, &mut st, std::ptr::null_mut()), SQLITE_OK);
        let mut sum = 0usize;
        while step(st) == SQLITE_ROW {
            sum += column_int64(st, 0) as usize;
            // SAFETY: sqlite3 returns NUL-terminated text valid until the next step.
            sum += unsafe { CStr::from_ptr(column_text(st, 1)) }.to_string_lossy().into_owned().len();
            sum += column_double(st, 2) as usize;
            let (p, n) = (column_blob(st, 3), column_bytes(st, 3) as usize);
            // SAFETY: `n` bytes at `p`, valid until the next step.
            sum += unsafe { std::slice::from_raw_parts(p, n) }.to_vec().len();
        }
        assert_eq!(finalize(st), SQLITE_OK);
        assert!(sum > 0);
    });
    let client = median(7, || {
        let (_, st) = s.sqlite3_prepare_v2(db, select).unwrap();
        let mut sum = 0usize;
        loop {
            let status = s.sqlite3_step(st).unwrap();
            if status == SQLITE_DONE {
                break;
            }
            sum += s.sqlite3_column_int64(st, 0).unwrap() as usize;
            sum += s.sqlite3_column_text(st, 1).unwrap().unwrap_or_default().len();
            sum += s.sqlite3_column_double(st, 2).unwrap() as usize;
            sum += s.sqlite3_column_blob(st, 3).unwrap().unwrap_or_default().len();
        }
        assert_eq!(s.sqlite3_finalize(st), Ok(SQLITE_OK));
        assert!(sum > 0);
    });
    println!("\nsqlite3 3.40.1, SELECT of 10,000 rows (4 columns: int64, text, double, 32-byte blob), in memory; median of 7");
    println!("| measurement | ms | × in-process 64-bit |\n|---|---|---|");
    row("in process (64-bit sqlite3): step + 4 column reads per row", direct, direct);
    row("generated client: the same 5 calls per row, each a round trip", client, direct);
    let per_call = (client.saturating_sub(direct)).as_secs_f64() * 1e6 / 50_000.0;
    println!("(about {per_call:.1} µs more per call: 50,000 calls)");
}

fn main() {
    let real = dllgen_tests::workspace_root().join("tests/real");
    assert!(real.join("zlib").is_dir() && real.join("sqlite3").is_dir(), "run tests/setup/setup.sh first");
    zlib(&real);
    sqlite3(&real);
}
