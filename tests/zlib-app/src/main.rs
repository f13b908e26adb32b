//! `zlib-check LIBZ64`: every function of specs/zlib.yaml through the generated client
//! (its host and Debian's 32-bit zlib found as the client finds them: `ZLIB_HOST`,
//! `ZLIB_LIBRARY`), compared with LIBZ64, the 64-bit build of the same zlib version. Prints
//! one line per check; a failure panics (exit status 101) with what differed.

#[path = "../../kinds-app/src/direct.rs"]
mod direct;

use direct::Direct;
use std::ffi::{c_char, c_long, c_ulong, c_void, CStr, CString};
mod stream;

#[cfg(not(windows))]
use zlib_client::{Error, GzFile, GzHeaderOut, GzHeaderS as GzHeader, ZStreamS as ZStream, Zlib};
#[cfg(windows)]
use zlib_win_client::{
    Error, GzFile, GzHeaderOut, GzHeaderS as GzHeader, ZStreamS as ZStream, ZlibWin as Zlib,
};

/// `uLong` and `z_off_t` in the 64-bit build.
type UL = c_ulong;
type Off = c_long;
/// `z_off64_t` in the 64-bit build: `off64_t` on Linux, `long` in mingw's zlib1.dll.
#[cfg(not(windows))]
type Off64 = i64;
#[cfg(windows)]
type Off64 = c_long;

/// A 32- or 64-bit offset as i64 (the client's `z_off64_t` follows the 32-bit build's).
fn wide<T: Into<i64>>(v: T) -> i64 {
    v.into()
}

const Z_BUF_ERROR: i32 = -5;
const Z_DATA_ERROR: i32 = -3;

/// zlib's own functions in the 64-bit build (`uLong` is C's `unsigned long`: 64-bit on
/// Linux, 32-bit on Windows; `z_off_t` is `long`; `uInt` is 32-bit).
struct Native {
    version: extern "C" fn() -> *const c_char,
    error: extern "C" fn(i32) -> *const c_char,
    bound: extern "C" fn(UL) -> UL,
    compress2: extern "C" fn(*mut u8, *mut UL, *const u8, UL, i32) -> i32,
    uncompress2: extern "C" fn(*mut u8, *mut UL, *const u8, *mut UL) -> i32,
    crc32: extern "C" fn(UL, *const u8, u32) -> UL,
    crc32_z: extern "C" fn(UL, *const u8, usize) -> UL,
    adler32: extern "C" fn(UL, *const u8, u32) -> UL,
    adler32_z: extern "C" fn(UL, *const u8, usize) -> UL,
    crc32_combine: extern "C" fn(UL, UL, Off) -> UL,
    adler32_combine: extern "C" fn(UL, UL, Off) -> UL,
    crc32_combine_gen: extern "C" fn(Off) -> UL,
    crc32_combine_op: extern "C" fn(UL, UL, UL) -> UL,
    crc_table: extern "C" fn() -> *const u32,
    gzopen: extern "C" fn(*const c_char, *const c_char) -> *mut c_void,
    gzread: extern "C" fn(*mut c_void, *mut u8, u32) -> i32,
    gzwrite: extern "C" fn(*mut c_void, *const u8, u32) -> i32,
    gzclose: extern "C" fn(*mut c_void) -> i32,
    gzfread: extern "C" fn(*mut u8, usize, usize, *mut c_void) -> usize,
    gzgets: extern "C" fn(*mut c_void, *mut c_char, i32) -> *mut c_char,
}

impl Native {
    fn new(d: &Direct) -> Native {
        Native {
            version: d.sym("zlibVersion"),
            error: d.sym("zError"),
            bound: d.sym("compressBound"),
            compress2: d.sym("compress2"),
            uncompress2: d.sym("uncompress2"),
            crc32: d.sym("crc32"),
            crc32_z: d.sym("crc32_z"),
            adler32: d.sym("adler32"),
            adler32_z: d.sym("adler32_z"),
            crc32_combine: d.sym("crc32_combine"),
            adler32_combine: d.sym("adler32_combine"),
            crc32_combine_gen: d.sym("crc32_combine_gen"),
            crc32_combine_op: d.sym("crc32_combine_op"),
            crc_table: d.sym("get_crc_table"),
            gzopen: d.sym("gzopen"),
            gzread: d.sym("gzread"),
            gzwrite: d.sym("gzwrite"),
            gzclose: d.sym("gzclose"),
            gzfread: d.sym("gzfread"),
            gzgets: d.sym("gzgets"),
        }
    }

    fn text(p: *const c_char) -> String {
        // SAFETY: zlib returns static NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    /// compress2 into `cap` bytes: the status and what was written.
    fn compress2(&self, src: &[u8], cap: usize, level: i32) -> (i32, Vec<u8>) {
        let (mut out, mut len) = (vec![0u8; cap], cap as UL);
        let status = (self.compress2)(out.as_mut_ptr(), &mut len, src.as_ptr(), src.len() as UL, level);
        out.truncate(if status == 0 { len as usize } else { 0 });
        (status, out)
    }

    /// An open gz file.
    fn gz_open(&self, path: &str, mode: &str) -> *mut c_void {
        let (p, m) = (CString::new(path).unwrap(), CString::new(mode).unwrap());
        let f = (self.gzopen)(p.as_ptr(), m.as_ptr());
        assert!(!f.is_null(), "gzopen {path}");
        f
    }

    /// A gz file's whole contents.
    fn gz_read_all(&self, path: &str) -> Vec<u8> {
        let (p, m) = (CString::new(path).unwrap(), CString::new("rb").unwrap());
        let f = (self.gzopen)(p.as_ptr(), m.as_ptr());
        assert!(!f.is_null(), "gzopen {path}");
        let (mut all, mut buf) = (Vec::new(), vec![0u8; 7000]);
        loop {
            let n = (self.gzread)(f, buf.as_mut_ptr(), buf.len() as u32);
            assert!(n >= 0);
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n as usize]);
        }
        assert_eq!((self.gzclose)(f), 0);
        all
    }

    /// Writes a gz file.
    fn gz_write_all(&self, path: &str, data: &[u8]) {
        let (p, m) = (CString::new(path).unwrap(), CString::new("wb9").unwrap());
        let f = (self.gzopen)(p.as_ptr(), m.as_ptr());
        assert!(!f.is_null(), "gzopen {path}");
        assert_eq!((self.gzwrite)(f, data.as_ptr(), data.len() as u32), data.len() as i32);
        assert_eq!((self.gzclose)(f), 0);
    }

    /// uncompress2 into `cap` bytes: the status, what was written, what was consumed.
    fn uncompress2(&self, src: &[u8], cap: usize) -> (i32, Vec<u8>, usize) {
        let (mut out, mut len, mut used) = (vec![0u8; cap], cap as UL, src.len() as UL);
        let status = (self.uncompress2)(out.as_mut_ptr(), &mut len, src.as_ptr(), &mut used);
        out.truncate(if status == 0 { len as usize } else { 0 });
        (status, out, used as usize)
    }
}

/// Data that compresses somewhat, from a seed.
fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
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

/// A client result as the native call's: the status on success, or the same error code.
fn status<T>(r: Result<(i32, T), Error>) -> (i32, Option<T>) {
    match r {
        Ok((s, v)) => (s, Some(v)),
        Err(Error::Library(code)) => (code as i32, None),
        Err(e) => panic!("not a library error: {e}"),
    }
}

fn main() {
    let lib64 = std::env::args().nth(1).expect("usage: zlib-check LIBZ64");
    let direct = Direct::open(&lib64);
    let native = Native::new(&direct);
    let z = Zlib::new();

    assert_eq!(z.zlibVersion().unwrap(), Native::text((native.version)()));
    for code in -6..=2 {
        assert_eq!(z.zError(code).unwrap(), Native::text((native.error)(code)), "zError({code})");
    }
    assert_ne!(z.zlibCompileFlags().unwrap(), 0);
    println!("ok: version and messages");

    for n in [0usize, 1, 100, 65_535, 65_536, 1 << 20, 8 << 20] {
        let src = data(n, n as u64 + 7);
        let bound = z.compressBound(n as u32).unwrap();
        assert_eq!(UL::from(bound), (native.bound)(n as UL), "compressBound({n})");
        for level in [0, 1, 6, 9] {
            let (s, packed) = native.compress2(&src, bound as usize, level);
            assert_eq!(s, 0);
            let (cs, cpacked) = z.compress2(bound as usize, &src, level).unwrap();
            assert_eq!((cs, cpacked.len()), (0, packed.len()), "{n} bytes, level {level}");
            assert!(cpacked == packed, "compress2 of {n} bytes at level {level}: not byte-exact");
        }
        let (s, packed) = z.compress(bound as usize, &src).unwrap();
        assert!(s == 0 && packed == native.compress2(&src, bound as usize, -1).1, "compress of {n} bytes");
        let (s, back) = z.uncompress(n, &packed).unwrap();
        assert!(s == 0 && back == src, "uncompress of {n} bytes");
        let (s, back, used) = z.uncompress2(n, &packed).unwrap();
        assert!(s == 0 && back == src && used == packed.len(), "uncompress2 of {n} bytes");
        assert_eq!(native.uncompress2(&packed, n), (0, src.clone(), packed.len()));
    }
    println!("ok: compress and uncompress, 0 B to 8 MiB, byte-exact");

    // Too small a buffer: Z_BUF_ERROR from both; a corrupt stream: Z_DATA_ERROR from both.
    let src = data(10_000, 3);
    let (_, packed) = native.compress2(&src, 20_000, 6);
    assert_eq!(native.compress2(&src, 100, 6).0, Z_BUF_ERROR);
    assert_eq!(status(z.compress2(100, &src, 6)), (Z_BUF_ERROR, None));
    assert_eq!(native.uncompress2(&packed, 9_999).0, Z_BUF_ERROR);
    assert_eq!(status(z.uncompress(9_999, &packed)), (Z_BUF_ERROR, None));
    let mut bad = packed.clone();
    bad[packed.len() / 2] ^= 0x55;
    bad[2] ^= 0xff;
    let expected = native.uncompress2(&bad, 10_000).0;
    assert_eq!(expected, Z_DATA_ERROR);
    assert_eq!(status(z.uncompress(10_000, &bad)), (Z_DATA_ERROR, None));
    // A truncated stream consumes all of its input and still needs more.
    let (ns, _, nused) = native.uncompress2(&packed[..packed.len() / 2], 10_000);
    match z.uncompress2(10_000, &packed[..packed.len() / 2]) {
        Err(Error::Library(code)) => assert_eq!(code as i32, ns),
        Ok((s, _, used)) => assert_eq!((s, used), (ns, nused)),
        Err(e) => panic!("{e}"),
    }
    // The 4 MiB overrun, as a regression: the capacity is the count zlib reads
    // (`*destLen`), so 4 MiB of data into 64 KiB is Z_BUF_ERROR, never a write past the
    // host's buffer (the guard after it is intact: no error other than zlib's).
    let big = data(4 << 20, 11);
    let (_, big_packed) = native.compress2(&big, 5 << 20, 6);
    assert_eq!(status(z.uncompress(64 << 10, &big_packed)), (Z_BUF_ERROR, None));
    assert_eq!(status(z.uncompress(4 << 20, &big_packed)).1.as_deref(), Some(&big[..]), "the host lives on");
    println!("ok: Z_BUF_ERROR and Z_DATA_ERROR");

    for n in [0usize, 1, 5, 4096, 1 << 20] {
        let src = data(n, 11);
        let (p, len) = (src.as_ptr(), src.len());
        assert_eq!(UL::from(z.crc32(0, Some(&src)).unwrap()), (native.crc32)(0, p, len as u32));
        assert_eq!(UL::from(z.crc32_z(7, Some(&src)).unwrap()), (native.crc32_z)(7, p, len));
        assert_eq!(UL::from(z.adler32(1, Some(&src)).unwrap()), (native.adler32)(1, p, len as u32));
        assert_eq!(UL::from(z.adler32_z(9, Some(&src)).unwrap()), (native.adler32_z)(9, p, len));
    }
    // NULL gives the initial value.
    assert_eq!(UL::from(z.crc32(0, None).unwrap()), (native.crc32)(0, std::ptr::null(), 0));
    assert_eq!(UL::from(z.adler32(0, None).unwrap()), (native.adler32)(0, std::ptr::null(), 0));
    let (a, b) = (data(3000, 1), data(5000, 2));
    let (ca, cb) = (z.crc32(0, Some(&a)).unwrap(), z.crc32(0, Some(&b)).unwrap());
    let both = z.crc32_combine(ca, cb, b.len() as i32).unwrap();
    assert_eq!(UL::from(both), (native.crc32_combine)(ca.into(), cb.into(), b.len() as Off));
    assert_eq!(both, z.crc32(ca, Some(&b)).unwrap(), "combining is appending");
    let op = z.crc32_combine_gen(b.len() as i32).unwrap();
    assert_eq!(UL::from(op), (native.crc32_combine_gen)(b.len() as Off));
    assert_eq!(z.crc32_combine_op(ca, cb, op).unwrap(), both);
    assert_eq!(
        UL::from(z.crc32_combine_op(ca, cb, op).unwrap()),
        (native.crc32_combine_op)(ca.into(), cb.into(), op.into())
    );
    let (aa, ab) = (z.adler32(1, Some(&a)).unwrap(), z.adler32(1, Some(&b)).unwrap());
    assert_eq!(
        UL::from(z.adler32_combine(aa, ab, b.len() as i32).unwrap()),
        (native.adler32_combine)(aa.into(), ab.into(), b.len() as Off)
    );
    // SAFETY: zlib's static table of 256 entries.
    let table = unsafe { std::slice::from_raw_parts((native.crc_table)(), 256) };
    assert_eq!(z.get_crc_table().unwrap(), table, "the CRC table, copied out of the host");
    println!("ok: checksums");

    // gz files: written through the client, read natively, and the reverse (the host is
    // another process on the same machine). The file is a handle; three functions close it.
    let dir = std::env::temp_dir().join(format!("dllgen-zlib-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ours, theirs) = (dir.join("ours.gz"), dir.join("theirs.gz"));
    let (ours, theirs) = (ours.to_str().unwrap(), theirs.to_str().unwrap());
    let text = data(300_000, 5);
    let f = z.gzopen(ours, "wb").unwrap();
    assert_eq!(z.gzbuffer(f, 1 << 16).unwrap(), 0);
    assert_eq!(z.gzsetparams(f, 9, 0).unwrap(), 0);
    let mut written = Vec::new();
    for chunk in text.chunks(70_001) {
        assert_eq!(z.gzwrite(f, chunk).unwrap(), chunk.len() as i32);
        written.extend_from_slice(chunk);
    }
    assert_eq!(z.gzputs(f, "-- the end\n").unwrap(), 11);
    assert_eq!(z.gzputc(f, i32::from(b'!')).unwrap(), i32::from(b'!'));
    written.extend_from_slice(b"-- the end\n!");
    assert_eq!(z.gzflush(f, 2).unwrap(), 0);
    assert_eq!(z.gztell(f).unwrap(), written.len() as i32);
    assert_eq!(z.gzerror(f).unwrap(), (Some(String::new()), 0));
    assert_eq!(z.gzclose_w(f).unwrap(), 0);
    assert!(matches!(z.gzeof(f), Err(Error::BadHandle(_))), "a closed file is refused, never passed on");
    assert!(native.gz_read_all(ours) == written, "what the client wrote reads back natively");

    native.gz_write_all(theirs, &text);
    let f = z.gzopen(theirs, "rb").unwrap();
    assert_eq!(z.gzdirect(f).unwrap(), 0, "compressed");
    let first = z.gzgetc(f).unwrap();
    assert_eq!(first, i32::from(text[0]));
    assert_eq!(z.gzungetc(first, f).unwrap(), first);
    let read = gz_read_rest(&z, f);
    assert!(read == text, "what was written natively reads back through the client");
    assert_eq!(z.gzeof(f).unwrap(), 1);
    assert_eq!(z.gzrewind(f).unwrap(), 0);
    assert_eq!(z.gzseek(f, 1000, 0).unwrap(), 1000);
    assert_eq!(z.gzread(f, 10).unwrap(), text[1000..1010]);
    assert!(z.gzoffset(f).unwrap() > 0);
    z.gzclearerr(f).unwrap();
    assert_eq!(z.gzclose_r(f).unwrap(), 0);
    assert!(matches!(z.gzread(f, 10), Err(Error::BadHandle(_))));
    // A file that is not there: NULL, an error.
    assert!(matches!(z.gzopen(dir.join("missing/x.gz").to_str().unwrap(), "rb"), Err(Error::Library(_))));
    let f = z.gzopen(theirs, "rb").unwrap();
    assert_eq!(z.gzclose(f).unwrap(), 0);

    // gzdopen: a descriptor of this process (a `File`) the host takes a duplicate of: the
    // same open file, whose offset it shares (as with dup), zlib's from then on. Written
    // after a prefix this process wrote, then read from a file positioned past it.
    let prefixed = dir.join("prefixed");
    {
        use std::io::{Read, Seek, SeekFrom, Write};
        let mut file = std::fs::File::create(&prefixed).unwrap();
        file.write_all(b"PREFIX").unwrap();
        let f = z.gzdopen(file.try_clone().unwrap().into(), "wb").unwrap();
        assert_eq!(z.gzwrite(f, &text).unwrap(), text.len() as i32);
        assert_eq!(z.gzclose(f).unwrap(), 0);
        assert_eq!(
            file.stream_position().unwrap(),
            std::fs::metadata(&prefixed).unwrap().len(),
            "one offset"
        );
        drop(file);
        let mut all = Vec::new();
        std::fs::File::open(&prefixed).unwrap().read_to_end(&mut all).unwrap();
        assert_eq!(&all[..6], b"PREFIX", "zlib wrote after it, at the shared offset");
        std::fs::write(theirs, &all[6..]).unwrap();
        assert!(
            native.gz_read_all(theirs) == text,
            "what zlib wrote through the descriptor reads back natively"
        );
        let mut r = std::fs::File::open(&prefixed).unwrap();
        r.seek(SeekFrom::Start(6)).unwrap();
        let f = z.gzdopen(r.into(), "rb").unwrap();
        let read = gz_read_rest(&z, f);
        assert!(read == text, "read from where this process left the file");
        assert_eq!(z.gzclose(f).unwrap(), 0);
        // A mode zlib refuses: NULL, and the host closes the duplicate it took.
        let file = std::fs::File::open(&prefixed).unwrap();
        assert!(matches!(z.gzdopen(file.into(), "z"), Err(Error::Library(_))));
    }

    // fread/fwrite-style counts in items: written in items of 3 bytes through the client,
    // read back in items of 7 (the last partial item is not counted, as natively).
    let items = z.gzopen(ours, "wb").unwrap();
    let whole = &text[..text.len() / 3 * 3];
    assert_eq!(z.gzfwrite(whole, 3, (whole.len() / 3) as u32, items).unwrap(), (whole.len() / 3) as u32);
    assert!(
        matches!(z.gzfwrite(&whole[..10], 3, 5, items), Err(Error::Protocol(_))),
        "a buffer shorter than its counts is refused before zlib reads it"
    );
    assert_eq!(z.gzclose(items).unwrap(), 0);
    assert!(native.gz_read_all(ours) == whole, "gzfwrite's items read back natively");
    let (f, nf) = (z.gzopen(ours, "rb").unwrap(), native.gz_open(ours, "rb"));
    loop {
        let (n, got) = z.gzfread(7, 1000, f).unwrap();
        let mut buf = vec![0u8; 7000];
        let m = (native.gzfread)(buf.as_mut_ptr(), 7, 1000, nf);
        buf.truncate(m * 7);
        assert_eq!((n as usize, got.len()), (m, m * 7));
        assert!(got == buf);
        if n == 0 {
            break;
        }
    }
    assert_eq!((z.gzclose(f).unwrap(), (native.gzclose)(nf)), (0, 0));

    // Lines: gzgets returns its buffer (an offset of 0 here) or NULL at the end; lines
    // longer than the buffer come in pieces, as natively.
    let lines: String = (0..200).map(|i| format!("line {i}: {}\n", "x".repeat(i % 37))).collect();
    native.gz_write_all(theirs, lines.as_bytes());
    let (f, nf) = (z.gzopen(theirs, "rb").unwrap(), native.gz_open(theirs, "rb"));
    let mut count = 0;
    loop {
        let mut buf = vec![0u8; 24];
        let p = (native.gzgets)(nf, buf.as_mut_ptr().cast(), 24);
        match z.gzgets(f, 24) {
            Ok((offset, line)) => {
                assert_eq!(p.cast::<u8>(), buf.as_mut_ptr(), "natively the buffer too");
                assert_eq!(offset, 0);
                assert_eq!(line, Native::text(buf.as_ptr().cast()));
                count += 1;
            }
            Err(Error::Library(0)) => {
                assert!(p.is_null(), "both at the end");
                break;
            }
            Err(e) => panic!("gzgets: {e}"),
        }
    }
    assert!(count > 200, "{count} pieces");
    assert_eq!((z.gzclose(f).unwrap(), (native.gzclose)(nf)), (0, 0));
    // The 64-bit offset functions (large-file builds: off64_t on Linux; on Windows zlib1.dll
    // builds them over `long`), on a file of more than a ring's worth of data.
    let big = data(300_000, 64);
    let f = z.gzopen64(ours, "wb").unwrap();
    assert_eq!(z.gzwrite(f, &big), Ok(big.len() as i32));
    assert_eq!(wide(z.gztell64(f).unwrap()), big.len() as i64);
    assert_eq!(z.gzclose(f), Ok(0));
    let f = z.gzopen64(ours, "rb").unwrap();
    assert_eq!(wide(z.gzseek64(f, 250_000, 0).unwrap()), 250_000);
    assert_eq!(z.gzgetc_(f), Ok(i32::from(big[250_000])));
    assert_eq!(wide(z.gztell64(f).unwrap()), 250_001);
    assert!(wide(z.gzoffset64(f).unwrap()) > 0, "the compressed offset");
    assert_eq!(z.gzclose(f), Ok(0));
    let combine: extern "C" fn(UL, UL, Off64) -> UL = direct.sym("adler32_combine64");
    let crc_combine: extern "C" fn(UL, UL, Off64) -> UL = direct.sym("crc32_combine64");
    let crc_gen: extern "C" fn(Off64) -> UL = direct.sym("crc32_combine_gen64");
    for (a, b, n) in [(1u32, 2u32, 0), (0xdead, 0xbeef, 1000), (7, 9, 299_999)] {
        assert_eq!(
            UL::from(z.adler32_combine64(a, b, n.into()).unwrap()),
            combine(a.into(), b.into(), n.into())
        );
        assert_eq!(
            UL::from(z.crc32_combine64(a, b, n.into()).unwrap()),
            crc_combine(a.into(), b.into(), n.into())
        );
        assert_eq!(UL::from(z.crc32_combine_gen64(n.into()).unwrap()), crc_gen(n.into()));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("ok: gz files, also through a descriptor of this process (gzdopen)");

    stream::check(&z, &stream::Native::new(&direct));
}

/// What is left to read of gz file `f` through the client, 64 KiB at a time.
fn gz_read_rest(z: &Zlib, f: GzFile) -> Vec<u8> {
    let mut read = Vec::new();
    loop {
        let chunk = z.gzread(f, 65_536).unwrap();
        if chunk.is_empty() {
            return read;
        }
        read.extend_from_slice(&chunk);
    }
}
