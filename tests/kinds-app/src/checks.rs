//! The checks: every function of the kinds library through the generated client, each
//! result compared with a direct call into the 64-bit build of the same C source (random
//! inputs where a function takes any). A failed check panics with what differed.

use crate::api::{
    Clash, Error, Kinds, KxBlock, KxFrame, KxInfo, KxPacked, KxPacket, KxPoint, KxSeries, KxTextReq, KxValue,
    KxValueU, KxVerdict, KX_MAGIC, KX_VERSION,
};
use crate::Direct;
use std::ffi::{c_char, c_void, CStr, CString};

/// `kx_point` in the 64-bit build.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Default)]
struct P {
    x: i32,
    y: i32,
}

impl From<&KxPoint> for P {
    fn from(p: &KxPoint) -> P {
        P { x: p.x, y: p.y }
    }
}

fn point(p: P) -> KxPoint {
    KxPoint { x: p.x, y: p.y }
}

/// `struct kx_info` in the 64-bit build (the two bit-fields share one `unsigned`).
#[repr(C)]
struct Info64 {
    name: [c_char; 16],
    serial: u64,
    gain: f64,
    origin: P,
    label: *const c_char,
    bits: u32,
    value: [u8; 4],
}

/// `struct kx_block` in the 64-bit build.
#[repr(C)]
struct Block64 {
    count: u32,
    stride: u32,
}

/// `kx_packed` as its 7 bytes.
fn bytes7(p: &KxPacked) -> [u8; 7] {
    let mut b = [0u8; 7];
    b[0] = p.tag;
    b[1..5].copy_from_slice(&p.value.to_le_bytes());
    b[5..].copy_from_slice(&p.extra.to_le_bytes());
    b
}

/// A small deterministic generator (no dependency for one test).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 16
    }
    fn i32(&mut self) -> i32 {
        self.next() as i32
    }
    fn small(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

pub fn scalars_and_structs_by_value(k: &Kinds, d: &Direct) {
    let mut rng = Rng(1);

    let offset: extern "C" fn(P, i32, i32) -> P = d.sym("kx_offset");
    let even: extern "C" fn(i32) -> i32 = d.sym("kx_even");
    let mean: extern "C" fn(*const f64, usize) -> f64 = d.sym("kx_mean");
    let line: extern "C" fn(P, P, *mut P, i32) -> i32 = d.sym("kx_line");
    let sum: extern "C" fn(*const P, i32, *mut P) -> i32 = d.sym("kx_sum_points");
    let swap: extern "C" fn(*mut P) = d.sym("kx_swap");
    let repack: extern "C" fn(*const u8, *mut u8) -> i32 = d.sym("kx_repack");
    for _ in 0..200 {
        let p = P { x: rng.i32() / 4, y: rng.i32() / 4 };
        let (dx, dy) = (rng.i32() / 4, rng.i32() / 4);
        assert_eq!(k.kx_offset(point(p), dx, dy), Ok(point(offset(p, dx, dy))));

        let v = rng.i32();
        match even(v) {
            0 => assert_eq!(k.kx_even(v), Err(Error::Library(0)), "{v}"),
            r => assert_eq!(k.kx_even(v), Ok(r), "{v}"),
        }

        let values: Vec<f64> = (0..rng.small(50)).map(|_| rng.i32() as f64 / 7.0).collect();
        // (The 32-bit build uses SSE arithmetic, so the bits match: see build.sh.)
        assert_eq!(k.kx_mean(&values).unwrap().to_bits(), mean(values.as_ptr(), values.len()).to_bits());

        let (from, step) = (P { x: rng.i32() >> 12, y: rng.i32() >> 12 }, P { x: rng.i32() >> 20, y: 3 });
        let n = rng.small(40);
        let mut direct = vec![P::default(); n];
        assert_eq!(line(from, step, direct.as_mut_ptr(), n as i32), n as i32);
        let through: Vec<P> = k.kx_line(point(from), point(step), n).unwrap().iter().map(P::from).collect();
        assert_eq!(through, direct);

        let pts: Vec<KxPoint> =
            (0..rng.small(30)).map(|_| point(P { x: rng.i32() >> 8, y: rng.i32() >> 8 })).collect();
        let raw: Vec<P> = pts.iter().map(P::from).collect();
        let mut expected = P::default();
        let count = sum(raw.as_ptr(), raw.len() as i32, &mut expected);
        assert_eq!(k.kx_sum_points(&pts), Ok((count, point(expected))));

        let packed = KxPacked { tag: rng.next() as u8, value: rng.i32() / 4, extra: rng.next() as u16 };
        let (sum, out) = k.kx_repack(&packed).unwrap();
        // The 64-bit build's layout is the same: 7 packed bytes.
        let raw_in: [u8; 7] = bytes7(&packed);
        let mut raw_out = [0u8; 7];
        assert_eq!(sum, repack(raw_in.as_ptr(), raw_out.as_mut_ptr()));
        assert_eq!(bytes7(&out), raw_out);

        let mut a = point(p);
        let mut b = p;
        k.kx_swap(&mut a).unwrap();
        swap(&mut b);
        assert_eq!(a, point(b));
    }
}

pub fn buffers_strings_and_bools(k: &Kinds, d: &Direct) {
    let mut rng = Rng(2);

    let flip: extern "C" fn(*mut bool, i32) -> i32 = d.sym("kx_flip");
    let reverse: extern "C" fn(*mut u8, i32) = d.sym("kx_reverse");
    let upper16: extern "C" fn(*const u16, *mut u16, i32) = d.sym("kx_upper16");
    let error_text: extern "C" fn(i32) -> *const c_char = d.sym("kx_error_text");
    for _ in 0..100 {
        let mut a: Vec<bool> = (0..rng.small(100)).map(|_| rng.next() % 2 == 1).collect();
        let mut b = a.clone();
        let set = flip(b.as_mut_ptr(), b.len() as i32);
        assert_eq!(k.kx_flip(&mut a), Ok(set));
        assert_eq!(a, b);

        let mut a: Vec<u8> = (0..rng.small(300)).map(|_| rng.next() as u8).collect();
        let mut b = a.clone();
        reverse(b.as_mut_ptr(), b.len() as i32);
        k.kx_reverse(&mut a).unwrap();
        assert_eq!(a, b);

        let text: String = (0..rng.small(20)).map(|_| ['a', 'Z', 'é', '€', 'q', ' '][rng.small(6)]).collect();
        let cap = rng.small(25) + 1;
        let wide: Vec<u16> = text.encode_utf16().chain([0]).collect();
        let mut out = vec![0u16; cap];
        upper16(wide.as_ptr(), out.as_mut_ptr(), cap as i32);
        let expected: Vec<u16> = out.iter().copied().take_while(|u| *u != 0).collect();
        assert_eq!(k.kx_upper16(&text, cap), Ok(expected), "{text:?} in {cap}");
    }
    // Parameters named like the generated code's locals (`w`, `r`, `out`, `args`...).
    #[allow(clippy::type_complexity)]
    let weigh: extern "C" fn(i32, i32, i32, i32, i32, i32, i32, i32, *const u8, i32) -> i32 =
        d.sym("kx_weigh");
    for _ in 0..50 {
        let v: Vec<i32> = (0..8).map(|_| rng.i32() >> 8).collect();
        let data: Vec<u8> = (0..rng.small(20)).map(|_| rng.next() as u8).collect();
        let expected =
            weigh(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], data.as_ptr(), data.len() as i32);
        assert_eq!(k.kx_weigh(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], &data), Ok(expected));
    }
    for status in [0, -1, -2, 7] {
        // SAFETY: a static NUL-terminated string.
        let expected = unsafe { CStr::from_ptr(error_text(status)) }.to_str().unwrap().to_string();
        assert_eq!(k.kx_error_text(status), Ok(Some(expected)));
    }
}

/// `shared`: the host is a listener other clients may use (it outlives a restart).
pub fn a_device_session(k: &Kinds, d: &Direct, shared: bool) {
    let open: extern "C" fn(*const c_char, *mut *mut c_void) -> i32 = d.sym("kx_open");
    let info_get: extern "C" fn(*mut c_void, *mut Info64) -> i32 = d.sym("kx_info_get");
    let write_block: extern "C" fn(*mut c_void, *const [u32; 2], *const u8) -> i32 = d.sym("kx_write_block");
    let read: extern "C" fn(*mut c_void, *mut u8, usize, *mut usize) -> i32 = d.sym("kx_read");
    let describe: extern "C" fn(*mut c_void) -> *mut c_char = d.sym("kx_describe");
    let free: extern "C" fn(*mut c_void) = d.sym("kx_free");

    let (status, dev) = k.open("sim/device-7").unwrap();
    assert_eq!(status, 0);
    let path = CString::new("sim/device-7").unwrap();
    let mut raw = std::ptr::null_mut();
    assert_eq!(open(path.as_ptr(), &mut raw), 0);

    // A handle returned (`when: null` makes NULL an error).
    assert_eq!(k.kx_find("sim/device-7"), Ok(dev));
    assert_eq!(k.kx_find("elsewhere"), Err(Error::Library(0)));

    // A length from struct fields: block.count * block.stride bytes.
    let bytes: Vec<u8> = (0..24u8).collect();
    assert_eq!(k.kx_write_block(dev, &KxBlock { count: 4, stride: 6 }, &bytes), Ok(0));
    assert_eq!(write_block(raw, &[4, 6], bytes.as_ptr()), 0);
    // A buffer shorter than the fields say is refused before the library sees it; the
    // host (and the handle) live on.
    let pid = k.client().host_pid();
    assert!(matches!(
        k.kx_write_block(dev, &KxBlock { count: 5, stride: 6 }, &bytes),
        Err(Error::Protocol(_))
    ));
    assert_eq!(k.client().host_pid(), pid);
    let (status, got) = k.kx_read(dev, 100).unwrap();
    let mut buf = [0u8; 100];
    let mut n = 0usize;
    assert_eq!(read(raw, buf.as_mut_ptr(), 100, &mut n), status);
    assert_eq!(got, buf[..n]);

    // An out-struct with an array, a nested struct, a string, bit-fields and a union.
    let (status, info) = k.kx_info_get(dev).unwrap();
    // SAFETY: zeroed is a valid Info64; the library fills it.
    let mut direct: Info64 = unsafe { std::mem::zeroed() };
    assert_eq!(info_get(raw, &mut direct), status);
    assert_eq!(info.name, direct.name);
    assert_eq!((info.serial, info.gain.to_bits()), (direct.serial, direct.gain.to_bits()));
    assert_eq!(P::from(&info.origin), direct.origin);
    // SAFETY: the library's static label.
    assert_eq!(info.label, unsafe { CStr::from_ptr(direct.label) }.to_str().unwrap());
    assert_eq!((info.flags, info.mode), (direct.bits & 7, direct.bits >> 3 & 31));
    assert_eq!(info.value.bytes, direct.value);

    // The same struct going in: its string field crosses as a string.
    let mut labelled = info.clone();
    for label in ["", "x", "a longer label with ünïcode"] {
        labelled.label = label.into();
        let (status, text) = k.kx_label(&labelled, 64).unwrap();
        assert_eq!((status, text.as_str()), (0, label));
    }
    assert_eq!(k.kx_label(&KxInfo::default(), 2).unwrap().1, "");

    // A string the caller frees.
    let p = describe(raw);
    // SAFETY: a NUL-terminated string the library allocated.
    let expected = unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string();
    free(p.cast());
    assert_eq!(k.kx_describe(dev), Ok(Some(expected)));

    // An optional struct pointer.
    assert_eq!(k.kx_set_origin(dev, Some(&KxPoint { x: 1, y: 2 })), Ok(0));
    assert_eq!(k.kx_set_origin(dev, None), Ok(0));

    k.kx_close(Some(dev)).unwrap();
    assert_eq!(k.kx_find("sim/device-7"), Err(Error::Library(0)));
    k.kx_close(None).unwrap();

    // A closed handle never reaches the library: the call is refused, the host lives on.
    let pid = k.client().host_pid();
    assert!(matches!(k.kx_describe(dev), Err(Error::BadHandle(_))), "{:?}", k.kx_describe(dev));
    assert!(matches!(k.kx_close(Some(dev)), Err(Error::BadHandle(_))), "closed twice");
    assert_eq!(k.client().host_pid(), pid);
    // Nor does a handle from an earlier host process (a shared host keeps its handles).
    let (_, dev) = k.open("sim/device-8").unwrap();
    k.client().restart();
    if shared {
        assert!(k.kx_describe(dev).is_ok());
        k.kx_close(Some(dev)).unwrap();
    } else {
        assert!(matches!(k.kx_describe(dev), Err(Error::BadHandle(_))));
        assert_ne!(k.client().host_pid(), pid);
    }
}

pub fn callbacks(k: &Kinds) {
    let (_, dev) = k.open("sim0").unwrap();

    // Returning non-zero cancels: the library returns the percentage it stopped at.
    let mut seen = Vec::new();
    let r = k.kx_scan(dev, &mut |p| {
        seen.push(p);
        i32::from(p >= 50)
    });
    assert_eq!(r, Ok(50));
    assert_eq!(seen, [0, 25, 50]);
    let mut calls = 0;
    assert_eq!(
        k.kx_scan(dev, &mut |_| {
            calls += 1;
            0
        }),
        Ok(100)
    );
    assert_eq!(calls, 5);

    // String arguments, and an optional callback left out.
    let mut names = Vec::new();
    assert_eq!(k.kx_each(3, Some(&mut |name: &str, i| names.push(format!("{i}:{name}")))), Ok(3));
    assert_eq!(names, ["0:n0", "1:n1", "2:n2"]);
    assert_eq!(k.kx_each(4, None), Ok(4));

    // Many callbacks in one call.
    let mut total = 0i64;
    assert_eq!(k.kx_each(2000, Some(&mut |_: &str, i| total += i64::from(i))), Ok(2000));
    assert_eq!(total, 1999 * 2000 / 2);
    k.kx_close(Some(dev)).unwrap();
}

pub fn errno(k: &Kinds) {
    for code in [1, 22, 110] {
        assert_eq!(k.kx_fail(code), Err(Error::Library(code.into())));
    }
}

/// Names that clash with the generated code's own, odd byte counts, optional buffers with
/// computed lengths, NULL handles and callbacks a library keeps.
pub fn edges(k: &Kinds, d: &Direct) {
    let mut rng = Rng(3);
    let clash: extern "C" fn(
        [i32; 2],
        i32,
        i32,
        i32,
        Option<extern "C" fn(*mut c_void, i32)>,
        *mut c_void,
    ) -> i32 = d.sym("kx_clash");
    let fill_odd: extern "C" fn(*mut u32, i32) -> i32 = d.sym("kx_fill_odd");
    let sum_opt: extern "C" fn(*const u8, i32, i32) -> i32 = d.sym("kx_sum_opt");
    let fill_blocks: extern "C" fn(*const Block64, *mut u8) -> i32 = d.sym("kx_fill_blocks");
    for _ in 0..50 {
        let v: Vec<i32> = (0..5).map(|_| rng.i32() >> 8).collect();
        let expected = clash([v[0], v[1]], v[2], v[3], v[4], None, std::ptr::null_mut());
        let mut seen = Vec::new();
        let got = k.kx_clash(Clash { self_: v[0], r#type: v[1] }, v[2], v[3], v[4], &mut |t| seen.push(t));
        assert_eq!((got, seen), (Ok(expected), vec![expected]));

        // A byte count that is not a whole number of u32s: the buffer is rounded up.
        let size = rng.small(40) as i32;
        let mut direct = vec![0u32; (size as usize).div_ceil(4)];
        let n = fill_odd(direct.as_mut_ptr(), size);
        assert_eq!(k.kx_fill_odd(size), Ok((n, direct)), "{size} bytes");

        let (count, stride) = (rng.small(6) as i32, rng.small(5) as i32);
        let data: Vec<u8> = (0..count * stride).map(|_| rng.next() as u8).collect();
        assert_eq!(k.kx_sum_opt(Some(&data), count, stride), Ok(sum_opt(data.as_ptr(), count, stride)));
        assert_eq!(k.kx_sum_opt(None, count, stride), Ok(-1));
        if !data.is_empty() {
            let short = &data[..data.len() - 1];
            assert!(matches!(k.kx_sum_opt(Some(short), count, stride), Err(Error::Protocol(_))));
        }

        // An out-buffer sized by the fields of an optional struct: the client bounds the
        // reply by the same expression.
        let (block, block64) = (
            KxBlock { count: count as u32, stride: stride as u32 },
            Block64 { count: count as u32, stride: stride as u32 },
        );
        let mut direct = vec![0u8; data.len()];
        let n = fill_blocks(&block64, direct.as_mut_ptr());
        assert_eq!(k.kx_fill_blocks(Some(&block)), Ok((n, direct)));
        assert_eq!(k.kx_fill_blocks(None), Ok((0, Vec::new())));
    }

    // A library reporting more of an out-buffer than it was given: the call fails (never a
    // truncated result that looks complete); the host lives on.
    assert_eq!(k.kx_claim(8, 5), Ok(vec![0x5a; 5]));
    let pid = k.client().host_pid();
    let over = k.kx_claim(8, 9);
    assert!(matches!(&over, Err(Error::Protocol(m)) if m.contains("reported 9 elements")), "{over:?}");
    assert_eq!(k.client().host_pid(), pid, "the host lives on");

    // Counts read and written (`uLongf *destLen`): the capacity goes in, the filled length
    // comes back and is checked against it; an in-buffer's count comes back as consumed.
    let pack: extern "C" fn(*mut u8, *mut u32, *const u8, u32) -> i32 = d.sym("kx_pack");
    let eat: extern "C" fn(*const u8, *mut u32) -> i32 = d.sym("kx_eat");
    for _ in 0..50 {
        let src: Vec<u8> = (0..rng.small(40)).map(|_| rng.next() as u8).collect();
        let cap = rng.small(48);
        let (mut direct, mut len) = (vec![0u8; cap], cap as u32);
        let status = pack(direct.as_mut_ptr(), &mut len, src.as_ptr(), src.len() as u32);
        direct.truncate(len as usize);
        let expected = if status < 0 { Err(Error::Library(i64::from(status))) } else { Ok((status, direct)) };
        assert_eq!(k.kx_pack(cap, &src), expected, "{} bytes into {cap}", src.len());
        let mut n = src.len() as u32;
        let sum = eat(src.as_ptr(), &mut n);
        assert_eq!(k.kx_eat(&src), Ok((sum, n as usize)));
    }
    assert_eq!(k.kx_eat(&[]), Ok((0, 0)));

    // A library writing past what the spec gives it: the guard after the output catches
    // it, and the error names the function and the parameter; the host lives on.
    let pid = k.client().host_pid();
    for (cap, r) in [(8, k.kx_overfill(8)), (100_000, k.kx_overfill(100_000))] {
        assert!(
            matches!(&r, Err(Error::Protocol(m)) if m.contains("wrote past the end of `kx_overfill` parameter `buf`")),
            "{cap}: {r:?}"
        );
    }
    let r = k.kx_overrun();
    assert!(
        matches!(&r, Err(Error::Protocol(m)) if m.contains("`kx_overrun` parameter `out` (4 bytes given)")),
        "{r:?}"
    );
    assert_eq!(k.client().host_pid(), pid, "the host lives on");

    // NULL where a handle was expected: the client gets a handle that the host refuses
    // to pass back, instead of handing the library a NULL.
    let (status, none) = k.default_().unwrap();
    assert_eq!(status, 0);
    let pid = k.client().host_pid();
    assert!(matches!(k.kx_describe(none), Err(Error::BadHandle(_))));
    // (kx_close takes an optional device: NULL is allowed there, and passed.)
    assert_eq!(k.kx_close(Some(none)), Ok(()));
    assert_eq!(k.client().host_pid(), pid, "the host lives on");

    // A library that keeps a callback and calls it during a later call: the closure it
    // belonged to is gone, so that later call fails (rather than running another closure).
    assert_eq!(k.kx_keep(&mut |_| 100), Ok(()));
    let mut later = Vec::new();
    let r = k.kx_fire(&mut |p| {
        later.push(p);
        1
    });
    assert!(matches!(&r, Err(Error::Callback(m)) if m.contains("earlier call")), "{r:?}");
    assert_eq!(later, [1], "only this call's own callback ran its closure");
}

/// Buffers large enough to cross through the shared bulk area (in, in place, out), and
/// the same function with small ones in between.
pub fn large_buffers(k: &Kinds, d: &Direct) {
    let mut rng = Rng(4);
    let mean: extern "C" fn(*const f64, usize) -> f64 = d.sym("kx_mean");
    let reverse: extern "C" fn(*mut u8, i32) = d.sym("kx_reverse");
    let upper16: extern "C" fn(*const u16, *mut u16, i32) = d.sym("kx_upper16");
    for round in 0..6 {
        let n = if round % 2 == 0 { 50_000 + rng.small(1000) } else { rng.small(50) };
        let values: Vec<f64> = (0..n).map(|_| rng.i32() as f64 / 3.0).collect();
        assert_eq!(k.kx_mean(&values).unwrap().to_bits(), mean(values.as_ptr(), n).to_bits(), "{n} doubles");

        let mut a: Vec<u8> = (0..n * 3).map(|_| rng.next() as u8).collect();
        let mut b = a.clone();
        reverse(b.as_mut_ptr(), b.len() as i32);
        k.kx_reverse(&mut a).unwrap();
        assert!(a == b, "{} bytes reversed in place", a.len());

        let text: String = (0..n / 4).map(|_| ['a', 'Z', 'é', 'q'][rng.small(4)]).collect();
        let cap = n / 4 + 1;
        let wide: Vec<u16> = text.encode_utf16().chain([0]).collect();
        let mut out = vec![0u16; cap];
        upper16(wide.as_ptr(), out.as_mut_ptr(), cap as i32);
        let expected: Vec<u16> = out.iter().copied().take_while(|u| *u != 0).collect();
        assert_eq!(k.kx_upper16(&text, cap), Ok(expected), "{} units", cap);
    }
}

/// Arguments the client never sees (a macro integer, a macro string, `_Reserved_` NULL, a
/// pointer constant, `sizeof` on the 32-bit layout), the header's constants, and strings
/// the library allocates through a `char **` that the host copies and frees.
pub fn fixed_and_library_strings(k: &Kinds, d: &Direct) {
    // The constants are the header's, with C's types.
    let magic: i32 = KX_MAGIC;
    let version: &str = KX_VERSION;
    assert_eq!((magic, version), (0x4B58, "kx-1.0"));
    // kx_fixed returns minus the position of a wrong argument: every one is right.
    let fixed: extern "C" fn(i32, i32, *const c_char, *mut c_void, *const c_void, u32) -> i32 =
        d.sym("kx_fixed");
    let c_version = CString::new(version).unwrap();
    let transient = usize::MAX as *const c_void;
    // The 64-bit build's struct is larger: the direct call is given its own sizeof.
    let size64 = std::mem::size_of::<Info64>() as u32;
    for x in [0, 1, -7, 1 << 20] {
        let direct = fixed(x, magic, c_version.as_ptr(), std::ptr::null_mut(), transient, size64);
        assert_eq!(k.kx_fixed(x), Ok(direct), "{x}");
        assert_eq!(direct, x * 2);
    }

    let explain: extern "C" fn(i32, *mut *mut c_char) -> i32 = d.sym("kx_explain");
    let free: extern "C" fn(*mut c_void) = d.sym("kx_free");
    for code in [0, 1, 42, 1000] {
        let mut msg = std::ptr::null_mut();
        let status = explain(code, &mut msg);
        let text = (!msg.is_null()).then(|| {
            // SAFETY: kx_explain stores NULL or a NUL-terminated string.
            let s = unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned();
            free(msg.cast());
            s
        });
        assert_eq!(k.kx_explain(code), Ok((status, text)), "{code}");
    }
    // The host freed every message it copied.
    assert_eq!(k.kx_unfreed(), Ok(0));

    // A callback whose type is written in the prototype, with an array of strings and
    // its count (NULL elements are None).
    for n in [0, 1, 3, 16] {
        let mut seen = Vec::new();
        let got = k.kx_rows(n, &mut |argc, argv| {
            seen = argv.to_vec();
            argc * 10
        });
        assert_eq!(got, Ok(n * 10));
        let expected: Vec<Option<String>> = (0..n).map(|i| (i != 1).then(|| format!("r{i}"))).collect();
        assert_eq!(seen, expected, "{n}");
    }
    assert_eq!(k.kx_rows(17, &mut |_, _| 0), Ok(-1));

    // A callback given a handle: the same object keeps its id.
    let (_, dev) = k.open("sim/visited").unwrap();
    let mut got = None;
    assert_eq!(
        k.kx_visit_device(dev, &mut |d| {
            got = Some(d);
            7
        }),
        Ok(7)
    );
    assert_eq!(got, Some(dev));
    k.kx_close(Some(dev)).unwrap();

    // A callback whose context is an integer (as LPARAM): the host's own, hidden.
    let mut seen = Vec::new();
    assert_eq!(
        k.kx_sum_each(5, &mut |i| {
            seen.push(i);
            i * i
        }),
        Ok(30)
    );
    assert_eq!(seen, [0, 1, 2, 3, 4]);

    // An array of strings the library reads (with the NULL after the last an argv-style
    // API looks for), against the 64-bit build.
    let join: extern "C" fn(*const *const c_char, i32, *mut c_char, i32) -> i32 = d.sym("kx_join");
    for parts in [vec![], vec!["one"], vec!["a", "", "héllo", "x y"], vec!["long"; 40]] {
        let c_parts: Vec<CString> = parts.iter().map(|p| CString::new(*p).unwrap()).collect();
        let mut ptrs: Vec<*const c_char> = c_parts.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        let mut buf = vec![0 as c_char; 64];
        let n = join(ptrs.as_ptr(), parts.len() as i32, buf.as_mut_ptr(), 64);
        // The length written is the out-buffer's fill; -1 (it does not fit) is refused.
        match k.kx_join(&parts, 64) {
            Ok(out) => {
                assert_eq!((out.as_slice(), n), (parts.join("+").as_bytes(), out.len() as i32), "{parts:?}")
            }
            Err(Error::Protocol(_)) => assert_eq!(n, -1, "{parts:?}"),
            Err(e) => panic!("{parts:?}: {e}"),
        }
    }
}

/// `kx_series` in the 64-bit build.
#[repr(C)]
struct Series64 {
    label: *const c_char,
    count: u32,
    values: *const i32,
    next: *const Series64,
}

/// A client chain as the 64-bit build takes it: the nodes (each pointing to the next) and
/// what they point to, kept alive together.
struct Chain64 {
    nodes: Vec<Series64>,
    _labels: Vec<Option<CString>>,
    _values: Vec<Vec<i32>>,
}

fn chain64(first: &KxSeries) -> Chain64 {
    let mut list = Vec::new();
    let mut at = Some(first);
    while let Some(s) = at {
        list.push(s);
        at = s.next.as_deref();
    }
    let labels: Vec<Option<CString>> =
        list.iter().map(|s| s.label.as_deref().map(|l| CString::new(l).unwrap())).collect();
    let values: Vec<Vec<i32>> = list.iter().map(|s| s.values.clone()).collect();
    let mut nodes: Vec<Series64> = (0..list.len())
        .map(|i| Series64 {
            label: labels[i].as_ref().map_or(std::ptr::null(), |l| l.as_ptr()),
            count: values[i].len() as u32,
            values: if values[i].is_empty() { std::ptr::null() } else { values[i].as_ptr() },
            next: std::ptr::null(),
        })
        .collect();
    // Linked back to front, once the nodes stay where they are.
    for i in (0..nodes.len().saturating_sub(1)).rev() {
        let next: *const Series64 = &nodes[i + 1];
        nodes[i].next = next;
    }
    Chain64 { nodes, _labels: labels, _values: values }
}

/// The library's chain in the 64-bit build, as the client's type.
fn from64(s: &Series64, depth: usize) -> KxSeries {
    assert!(depth < 64, "a loop");
    KxSeries {
        // SAFETY: the library's NUL-terminated label, or NULL.
        label: (!s.label.is_null())
            .then(|| unsafe { CStr::from_ptr(s.label) }.to_string_lossy().into_owned()),
        values: if s.values.is_null() {
            Vec::new()
        } else {
            // SAFETY: `count` values at `values`, as the library filled them.
            unsafe { std::slice::from_raw_parts(s.values, s.count as usize) }.to_vec()
        },
        // SAFETY: NULL or the library's next node.
        next: (!s.next.is_null()).then(|| Box::new(from64(unsafe { &*s.next }, depth + 1))),
    }
}

fn series(label: Option<&str>, values: Vec<i32>, next: Option<KxSeries>) -> KxSeries {
    KxSeries { label: label.map(str::to_string), values, next: next.map(Box::new) }
}

/// Struct fields that point: a buffer whose count is a sibling field, a pointer to the next
/// struct of a chain, a string; given to the library, and read back from the library's own.
pub fn pointer_fields(k: &Kinds, d: &Direct) {
    let sum: extern "C" fn(*const Series64, *mut i32, *mut i32) -> i64 = d.sym("kx_series_sum");
    let make: extern "C" fn(i32, *mut Series64) -> i32 = d.sym("kx_series_make");
    let mut rng = Rng(0x5e71e5);
    let big: Vec<i32> = (0..100_000).map(|_| rng.next() as i32 >> 8).collect();
    let chains = [
        series(Some("one"), vec![1, 2, 3], None),
        series(None, vec![], None),
        series(
            Some("alpha"),
            vec![5; 7],
            Some(series(None, vec![], Some(series(Some("γ"), vec![-9, 4], None)))),
        ),
        series(Some("big"), big, Some(series(Some("small"), vec![1], None))),
    ];
    for first in &chains {
        let c = chain64(first);
        let (mut n, mut chars) = (0, 0);
        let theirs = sum(&c.nodes[0], &mut n, &mut chars);
        assert_eq!(k.kx_series_sum(first), Ok((theirs, n, chars)), "{:?}", first.label);
    }
    assert_eq!(k.kx_series_sum(&chains[2]), Ok((35 - 5, 3, 7)), "not vacuous");
    // 64 pointers deep (65 series) is followed; one more is refused before the library
    // sees it.
    let deep = |n: usize| (0..n).fold(None, |next, i| Some(series(None, vec![i as i32], next))).unwrap();
    assert_eq!(k.kx_series_sum(&deep(65)), Ok(((0..65).sum(), 65, 0)));
    let too_deep = k.kx_series_sum(&deep(66));
    assert!(matches!(&too_deep, Err(Error::Protocol(m)) if m.contains("deeper than 64")), "{too_deep:?}");

    // A pointer to one struct the library owns, copied out; NULL is None.
    let origin: extern "C" fn(i32) -> *const P = d.sym("kx_origin");
    // SAFETY: the library's static point.
    let theirs = unsafe { *origin(1) };
    assert_eq!(k.kx_origin(1), Ok(Some(point(theirs))));
    assert_eq!(theirs, P { x: -3, y: 14 });
    assert!(origin(0).is_null());
    assert_eq!(k.kx_origin(0), Ok(None));

    // The library's own chain, read back through its pointers.
    for n in [1, 2, 4, 0, 5] {
        let mut theirs =
            Series64 { label: std::ptr::null(), count: 0, values: std::ptr::null(), next: std::ptr::null() };
        let status = make(n, &mut theirs);
        match k.kx_series_make(n) {
            Ok(ours) => assert_eq!(ours, (status, from64(&theirs, 0)), "{n}"),
            Err(e) => assert_eq!(e, Error::Library(status.into()), "{n}"),
        }
    }
    let (_, four) = k.kx_series_make(4).unwrap();
    assert_eq!(
        four.next.as_ref().and_then(|s| s.next.as_ref()).map(|s| s.values.clone()),
        Some(vec![20, 21, 22])
    );
    // A chain that loops, and a count that claims a billion values at NULL: refused, and
    // the host serves the next call.
    let looped = k.kx_series_make(-1);
    assert!(matches!(&looped, Err(Error::Protocol(m)) if m.contains("deeper than 64")), "{looped:?}");
    let liar = k.kx_series_make(-2);
    assert!(matches!(&liar, Err(Error::Protocol(m)) if m.contains("1000000000")), "{liar:?}");
    assert_eq!(k.kx_series_make(1).unwrap().1, series(Some("s0"), vec![0], None));
}

/// `kx_frame` in the 64-bit build.
#[repr(C)]
struct Frame64 {
    index: u32,
    width: i32,
    height: i32,
    exposure: f64,
    origin: P,
}

/// `kx_verdict` in the 64-bit build.
#[repr(C)]
struct Verdict64 {
    keep: i32,
    score: i32,
}

/// What both sides' callbacks decide: keep even frames, score from the frame, add the
/// exposure to the adjustment, stop after frame `stop`. Records what it saw.
fn decide(
    seen: &mut Vec<(u32, i32, i32, f64, i32, i32, f64)>,
    stop: u32,
    f: (u32, i32, i32, f64, i32, i32),
    v: &mut (i32, i32),
    adjust: &mut f64,
) -> i32 {
    seen.push((f.0, f.1, f.2, f.3, f.4, f.5, *adjust));
    *v = (i32::from(f.0 % 2 == 0), f.1 + f.2 + f.4);
    *adjust += f.3;
    i32::from(f.0 == stop)
}

struct Seen {
    frames: Vec<(u32, i32, i32, f64, i32, i32, f64)>,
    stop: u32,
}

extern "C" fn native_frame(ctx: *mut c_void, f: *const Frame64, v: *mut Verdict64, adjust: *mut f64) -> i32 {
    // SAFETY: the `Seen` kx_frames was given, and the library's valid pointers.
    let (seen, f, v, adjust) = unsafe { (&mut *(ctx as *mut Seen), &*f, &mut *v, &mut *adjust) };
    let mut verdict = (0, 0);
    let r = decide(
        &mut seen.frames,
        seen.stop,
        (f.index, f.width, f.height, f.exposure, f.origin.x, f.origin.y),
        &mut verdict,
        adjust,
    );
    (v.keep, v.score) = verdict;
    r
}

/// A callback given pointers to structs: a frame it reads, a verdict it fills and a number
/// it updates, written back to the library's memory before it goes on.
pub fn struct_callbacks(k: &Kinds, d: &Direct) {
    type OnFrame = extern "C" fn(*mut c_void, *const Frame64, *mut Verdict64, *mut f64) -> i32;
    let frames: extern "C" fn(i32, OnFrame, *mut c_void) -> i32 = d.sym("kx_frames");
    for (n, stop) in [(0, u32::MAX), (1, u32::MAX), (6, u32::MAX), (40, 3)] {
        let mut theirs = Seen { frames: Vec::new(), stop };
        let total = frames(n, native_frame, (&mut theirs as *mut Seen).cast());
        let mut ours = Vec::new();
        let got = k.kx_frames(n, &mut |f: &KxFrame, v: &mut KxVerdict, adjust: &mut f64| {
            let mut verdict = (v.keep, v.score);
            let r = decide(
                &mut ours,
                stop,
                (f.index, f.width, f.height, f.exposure, f.origin.x, f.origin.y),
                &mut verdict,
                adjust,
            );
            (v.keep, v.score) = verdict;
            r
        });
        assert_eq!(got, Ok(total), "{n} frames, stop after {stop}");
        assert_eq!(ours, theirs.frames, "{n} frames");
    }
    // Not vacuous: frame 2 is kept (2 + 642 + 480 = 1124), adjustments 0, 750, 1500.
    assert_eq!(
        k.kx_frames(3, &mut |f, v, adjust| {
            v.keep = i32::from(f.index == 2);
            v.score = f.width + f.height + f.origin.x;
            *adjust += f.exposure;
            0
        }),
        Ok(1124 + 750 + 1500)
    );
}

/// `kx_value` in the 64-bit build: the kind, then the union (8-aligned: it holds a double
/// and a pointer).
#[repr(C)]
struct Value64 {
    kind: i32,
    u: [u64; 1],
}

fn value64(v: &KxValue, text: &CString) -> Value64 {
    let (kind, bits) = match &v.u {
        KxValueU::I(i) => (1, *i as u32 as u64),
        KxValueU::D(d) => (2, d.to_bits()),
        KxValueU::S(_) => (3, text.as_ptr() as u64),
        KxValueU::P(p) => (4, (p.x as u32 as u64) | ((p.y as u32 as u64) << 32)),
        KxValueU::Other { tag, bytes } => (*tag as i32, u64::from_le_bytes(*bytes)),
    };
    Value64 { kind, u: [bits] }
}

/// A union selected by a tag field: each case crosses as its member; a tag no case names
/// comes back as `Other` with the union's bytes.
pub fn tagged_unions(k: &Kinds, d: &Direct) {
    let describe: extern "C" fn(*const Value64, *mut c_char, i32) -> i32 = d.sym("kx_value_describe");
    let get: extern "C" fn(i32, *mut Value64) -> i32 = d.sym("kx_value_get");
    let values = [
        KxValueU::I(7),
        KxValueU::I(i32::MIN),
        KxValueU::D(2.5),
        KxValueU::S(Some("héllo".into())),
        KxValueU::P(KxPoint { x: 1, y: -2 }),
    ];
    for u in values {
        let v = KxValue { u };
        let text = CString::new(match &v.u {
            KxValueU::S(Some(s)) => s.clone(),
            _ => String::new(),
        })
        .unwrap();
        let mut buf = vec![0 as c_char; 64];
        let n = describe(&value64(&v, &text), buf.as_mut_ptr(), 64);
        // SAFETY: NUL-terminated by the library.
        let theirs = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec();
        assert_eq!(n as usize, theirs.len());
        assert_eq!(k.kx_value_describe(&v, 64), Ok(theirs), "{:?}", v.u);
    }
    assert_eq!(k.kx_value_describe(&KxValue { u: KxValueU::D(2.5) }, 64).unwrap(), b"real 2.500");
    // A tag the spec does not name, in a union with a pointer member: refused.
    let other = KxValue { u: KxValueU::Other { tag: 9, bytes: [0; 8] } };
    assert!(matches!(k.kx_value_describe(&other, 64), Err(Error::Protocol(_))));

    for n in 0..6 {
        let mut theirs = Value64 { kind: 0, u: [0] };
        let status = get(n, &mut theirs);
        let ours = k.kx_value_get(n);
        if status != 0 {
            assert_eq!(ours, Err(Error::Library(status.into())), "{n}");
            continue;
        }
        let (_, v) = ours.unwrap();
        let bits = theirs.u[0];
        let expected = match theirs.kind {
            1 => KxValueU::I(bits as u32 as i32),
            2 => KxValueU::D(f64::from_bits(bits)),
            3 => {
                // SAFETY: the library's static string.
                let s = unsafe { CStr::from_ptr(bits as usize as *const c_char) };
                KxValueU::S(Some(s.to_string_lossy().into_owned()))
            }
            4 => KxValueU::P(KxPoint { x: bits as u32 as i32, y: (bits >> 32) as u32 as i32 }),
            // The library's 4 bytes of the member it set, then the zeroes it left.
            tag => {
                let mut bytes = [0u8; 8];
                bytes[..4].copy_from_slice(&(bits as u32).to_le_bytes());
                KxValueU::Other { tag: i64::from(tag), bytes }
            }
        };
        assert_eq!(v.u, expected, "{n}");
    }
    assert_eq!(k.kx_value_get(2).unwrap().1.u, KxValueU::S(Some("forty-two".into())));
    assert_eq!(k.kx_value_get(4).unwrap().1.u, KxValueU::Other { tag: 9, bytes: [4, 3, 2, 1, 0, 0, 0, 0] });
}

/// A struct ending in a flexible array member: laid out with its elements after it for the
/// library, and read back from after the library's own.
pub fn flexible_arrays(k: &Kinds, d: &Direct) {
    let sum: extern "C" fn(*const u8) -> i64 = d.sym("kx_packet_sum");
    let get: extern "C" fn(i32) -> *const u8 = d.sym("kx_packet_get");
    for (kind, values) in [(1u16, vec![]), (3, vec![5, -7, 11]), (2, (0..10_000).collect::<Vec<i32>>())] {
        // The 64-bit layout: two u16, then the values (4-aligned).
        let mut block: Vec<i32> = vec![0; 1 + values.len()];
        block[0] = i32::from(kind) | (i32::from(values.len() as u16) << 16);
        block[1..].copy_from_slice(&values);
        let theirs = sum(block.as_ptr().cast());
        assert_eq!(
            k.kx_packet_sum(&KxPacket { kind, values: values.clone() }),
            Ok(theirs),
            "{} values",
            values.len()
        );
    }
    assert_eq!(k.kx_packet_sum(&KxPacket { kind: 3, values: vec![5, -7, 11] }), Ok(27), "not vacuous");
    for n in [0, 1, 2, 3] {
        let p = get(n);
        let ours = k.kx_packet_get(n).unwrap();
        if p.is_null() {
            assert_eq!(ours, None, "{n}");
            continue;
        }
        // SAFETY: the library's packet: two u16, then `count` values.
        let (kind, count) = unsafe { (*p.cast::<u16>(), *p.cast::<u16>().add(1)) };
        // SAFETY: `count` values after the header.
        let values = unsafe { std::slice::from_raw_parts(p.add(4).cast::<i32>(), count as usize) }.to_vec();
        assert_eq!(ours, Some(KxPacket { kind, values }), "{n}");
    }
    assert_eq!(k.kx_packet_get(2).unwrap().map(|p| p.values), Some(vec![100, 101, 102, 103, 104, 105]));
}

/// What a frame callback saw: the bytes' length and checksum, the points, the devices.
type Chunk = (usize, u64, Vec<(i32, i32)>, usize);

fn checksum(data: &[u8]) -> u64 {
    data.iter().enumerate().fold(0u64, |a, (i, b)| a.wrapping_mul(31).wrapping_add(u64::from(*b) ^ i as u64))
}

extern "C" fn native_chunk(
    ctx: *mut c_void,
    data: *const u8,
    len: usize,
    pts: *const P,
    npts: i32,
    _devs: *const *mut c_void,
    ndevs: i32,
) -> i32 {
    // SAFETY: the Vec kx_deliver was given, and the library's arrays with their counts.
    let (seen, data, pts) = unsafe {
        (
            &mut *(ctx as *mut Vec<Chunk>),
            if data.is_null() { &[][..] } else { std::slice::from_raw_parts(data, len) },
            if pts.is_null() { &[][..] } else { std::slice::from_raw_parts(pts, npts as usize) },
        )
    };
    seen.push((data.len(), checksum(data), pts.iter().map(|p| (p.x, p.y)).collect(), ndevs as usize));
    len as i32 % 7
}

/// A callback given arrays with their counts, as a device SDK delivers frames: bytes,
/// structs and handles, compared with the 64-bit build.
pub fn callback_arrays(k: &Kinds, d: &Direct) {
    type OnData = extern "C" fn(*mut c_void, *const u8, usize, *const P, i32, *const *mut c_void, i32) -> i32;
    let deliver: extern "C" fn(i32, OnData, *mut c_void, *const *mut c_void, i32) -> i32 =
        d.sym("kx_deliver");
    let (_, a) = k.open("sim/frames-a").unwrap();
    let (_, b) = k.open("sim/frames-b").unwrap();
    for n in [0, 1, 10, 70] {
        let mut theirs: Vec<Chunk> = Vec::new();
        let fake = [std::ptr::null_mut::<c_void>(); 2];
        let total = deliver(n, native_chunk, (&mut theirs as *mut Vec<Chunk>).cast(), fake.as_ptr(), 2);
        let mut ours: Vec<Chunk> = Vec::new();
        let got = k.kx_deliver(
            n,
            &mut |data: &[u8],
                  len: u32,
                  pts: &[KxPoint],
                  npts: i32,
                  devs: &[crate::api::Device],
                  ndevs: i32| {
                assert_eq!(
                    (data.len(), pts.len(), devs.len()),
                    (len as usize, npts as usize, ndevs as usize)
                );
                assert_eq!(devs, [a, b], "the ids the client holds");
                ours.push((data.len(), checksum(data), pts.iter().map(|p| (p.x, p.y)).collect(), devs.len()));
                len as i32 % 7
            },
            &[a, b],
        );
        assert_eq!(got, Ok(total), "{n} chunks");
        assert_eq!(ours, theirs, "{n} chunks");
    }
    let mut biggest = 0;
    k.kx_deliver(
        70,
        &mut |data, _, _, _, _, _| {
            biggest = biggest.max(data.len());
            0
        },
        &[],
    )
    .unwrap();
    assert_eq!(biggest, 65536, "not vacuous: a 64 KiB chunk");
    k.kx_close(Some(a)).unwrap();
    k.kx_close(Some(b)).unwrap();
}

/// `kx_text_req` in the 64-bit build.
#[repr(C)]
struct TextReq64 {
    repeat: i32,
    cap: u32,
    buf: *mut c_char,
    len: u32,
    need: u32,
}

/// A struct holding a buffer the library fills, its capacity set by the caller: the host
/// allocates it, and reads back what the length field says (never past the capacity).
pub fn struct_out_buffers(k: &Kinds, d: &Direct) {
    let fill: extern "C" fn(*mut TextReq64) -> i32 = d.sym("kx_text_fill");
    for (repeat, cap) in [(3, 16), (0, 1), (8, 16), (8, 17), (30_000, 70_000)] {
        let mut buf = vec![0 as c_char; cap as usize];
        let mut theirs = TextReq64 { repeat, cap, buf: buf.as_mut_ptr(), len: 7, need: 7 };
        let status = fill(&mut theirs);
        let written: Vec<u8> = buf[..theirs.len as usize].iter().map(|c| *c as u8).collect();
        let mut ours = KxTextReq { repeat, cap, buf: vec![9; 3], len: 7, need: 7 };
        assert_eq!(k.kx_text_fill(&mut ours), Ok(status), "{repeat} in {cap}");
        assert_eq!((ours.buf, ours.len, ours.need), (written, theirs.len, theirs.need), "{repeat} in {cap}");
    }
    let mut req = KxTextReq { repeat: 3, cap: 16, ..Default::default() };
    assert_eq!(k.kx_text_fill(&mut req), Ok(0));
    assert_eq!(req.buf, b"ababab", "not vacuous");
}

/// Counts the drops of what a closure captures: the client dropped the closure.
struct Dropped(std::sync::Arc<std::sync::atomic::AtomicU32>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Callbacks the library keeps past the call: on a handle, until a destroy-notify, for good;
/// each fired during later calls, released when the library lets go of it, a panic in one
/// answered with the spec's default, and a call into the library from inside one.
pub fn kept_callbacks(k: &std::sync::Arc<Kinds>, d: &Direct) {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    let before = k.client().kept().len();
    let (_, dev) = k.open("kept").unwrap();

    // Kept on the device: fired by later calls, replaced, cleared.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let listener = move |e: i32, what: &str| {
        s.lock().unwrap().push(format!("{what}{e}"));
        e * 10
    };
    assert_eq!(k.kx_listen(dev, Some(Box::new(listener))), Ok(1));
    assert_eq!(k.kx_emit(dev, 3, "a"), Ok(30));
    assert_eq!(k.kx_emit(dev, 2, "b"), Ok(10));
    assert_eq!(*seen.lock().unwrap(), ["a0", "a1", "a2", "b0", "b1"]);
    assert_eq!(k.client().kept().len(), before + 1);
    let gone = Arc::new(AtomicU32::new(0));
    let guard = Dropped(gone.clone());
    assert_eq!(k.kx_listen(dev, Some(Box::new(move |e, _| e + i32::from(guard.0.load(SeqCst) == 0)))), Ok(2));
    assert_eq!(Arc::strong_count(&seen), 1, "the replaced listener was dropped");
    assert_eq!(k.kx_emit(dev, 4, "c"), Ok(10));
    assert_eq!(k.kx_listen(dev, None), Ok(3));
    assert_eq!(gone.load(SeqCst), 1, "cleared: dropped");
    assert_eq!(k.client().kept().len(), before);
    assert_eq!(k.kx_emit(dev, 1, "x"), Err(Error::Library(-1)));

    // A closure that panics: the library gets the spec's default (-100) for that event, the
    // call fails with the panic's message, and the next call is served.
    let fired = Arc::new(AtomicU32::new(0));
    let f = fired.clone();
    let panicky = move |e: i32, _: &str| {
        f.fetch_add(1, SeqCst);
        if e == 1 {
            panic!("event one");
        }
        1
    };
    assert_eq!(k.kx_listen(dev, Some(Box::new(panicky))), Ok(4));
    match k.kx_emit(dev, 3, "p") {
        Err(Error::Callback(m)) => assert!(m.contains("event one"), "{m}"),
        other => panic!("a panicking closure gave {other:?}"),
    }
    assert_eq!(fired.load(SeqCst), 3, "the library went on after the default");
    assert_eq!(k.kx_emit(dev, 1, "q"), Ok(1), "the closure stays, and serves the next call");

    // A call into the library from inside a kept closure, whose own kept callback runs too.
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    k.kx_logger_set(Some(Box::new(move |line: &str| {
        l.lock().unwrap().push(line.to_string());
        line.len() as i32
    })))
    .unwrap();
    let weak = Arc::downgrade(k);
    let nested = move |e: i32, what: &str| match weak.upgrade() {
        Some(k) => k.kx_logger_line(&format!("{what}{e}")).unwrap_or(-1000),
        None => -2000,
    };
    assert_eq!(k.kx_listen(dev, Some(Box::new(nested))), Ok(5));
    assert_eq!(k.kx_emit(dev, 3, "nest"), Ok(15));
    assert_eq!(*lines.lock().unwrap(), ["nest0", "nest1", "nest2"]);
    assert_eq!(k.kx_logger_line("direct"), Ok(6));
    // Closing the device releases its listener.
    let held = k.client().kept().len();
    k.kx_close(Some(dev)).unwrap();
    assert_eq!(k.client().kept().len(), held - 1, "the device's listener went with it");

    // Until the library calls the destroy-notify: replaced, refused (destroyed at once),
    // cleared. The order matches the 64-bit build's with the same comparator.
    let sort: extern "C" fn(
        i32,
        extern "C" fn(*mut c_void, i32, i32) -> i32,
        *mut c_void,
        *mut c_void,
    ) -> i32 = d.sym("kx_order_set");
    let run: extern "C" fn(i32, *mut i32, i32) -> i32 = d.sym("kx_order_sort");
    extern "C" fn by_last_digit(_: *mut c_void, a: i32, b: i32) -> i32 {
        (a % 10 - b % 10).signum()
    }
    let values: Vec<i32> = (0..40).map(|i| (i * 37 + 11) % 100).collect();
    let mut native = values.clone();
    assert_eq!(sort(1, by_last_digit, std::ptr::null_mut(), std::ptr::null_mut()), 0);
    assert_eq!(run(1, native.as_mut_ptr(), native.len() as i32), 40);
    let destroyed = Arc::new(AtomicU32::new(0));
    let guard = Dropped(destroyed.clone());
    let cmp = move |a: i32, b: i32| {
        let _ = &guard;
        (a % 10 - b % 10).signum()
    };
    assert_eq!(k.kx_order_set(1, Box::new(cmp)), Ok(0));
    let mut ours = values.clone();
    assert_eq!(k.kx_order_sort(1, &mut ours), Ok(40));
    assert_eq!(ours, native, "sorted as the 64-bit build sorts");
    let guard = Dropped(destroyed.clone());
    assert_eq!(
        k.kx_order_set(
            1,
            Box::new(move |a, b| {
                let _ = &guard;
                b - a
            })
        ),
        Ok(0)
    );
    assert_eq!(destroyed.load(SeqCst), 1, "replaced: the library destroyed the first");
    let mut desc = vec![3, 9, 1];
    assert_eq!(k.kx_order_sort(1, &mut desc), Ok(3));
    assert_eq!(desc, [9, 3, 1]);
    let guard = Dropped(destroyed.clone());
    assert_eq!(
        k.kx_order_set(
            7,
            Box::new(move |_, _| {
                let _ = &guard;
                0
            })
        ),
        Err(Error::Library(-1))
    );
    assert_eq!(destroyed.load(SeqCst), 2, "a bad slot: destroyed at once");
    k.kx_orders_clear().unwrap();
    assert_eq!(destroyed.load(SeqCst), 3, "cleared: destroyed");

    // Kept for good: still answering after everything above.
    assert_eq!(k.kx_logger_line("end"), Ok(3));
    k.kx_logger_set(None).unwrap();
    assert_eq!(k.kx_logger_line("none"), Err(Error::Library(-1)));
}

/// What the camera's frame closure saw of one frame: its index, whether its bytes and length
/// were the library's, and whether it ran on a thread other than the test's.
type FrameSeen = (u32, bool, bool);

/// A frame closure recording what it sees into `seen`, then running `then` (its result is
/// the closure's).
fn recorder(
    seen: &std::sync::Arc<std::sync::Mutex<Vec<FrameSeen>>>,
    mut then: impl FnMut(u32) -> i32 + Send + 'static,
) -> Box<crate::api::KxFrameFnKept> {
    let seen = seen.clone();
    let test = std::thread::current().id();
    Box::new(move |index: u32, data: &[u8], len: u32| {
        let bytes = data.iter().enumerate().all(|(i, &b)| b == (index as usize * 7 + i * 13) as u8);
        let ok = bytes && len as usize == data.len();
        seen.lock().unwrap().push((index, ok, std::thread::current().id() != test));
        then(index)
    })
}

/// Frames 0..n, each right and delivered off the test's thread.
fn all_frames(seen: &[FrameSeen], n: u32) -> bool {
    seen.len() == n as usize
        && seen.iter().enumerate().all(|(i, &(index, ok, off))| index == i as u32 && ok && off)
}

/// Callbacks a thread of the library's own fires with no call in flight (the camera's
/// acquisition thread; the client's dispatcher serves them), calls made from inside them, a
/// stop and a panic during delivery, completion callbacks a later call fires once, and the
/// host killed mid-stream. Over a listening host, which serves kept callbacks only during
/// calls, a frame gets the spec's default (-1), which stops the acquisition at once.
pub fn library_threads(k: &std::sync::Arc<Kinds>, listener: bool) {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    const FRAME: u32 = 64 << 10;
    const FRAMES: u32 = 1000;
    let before = k.client().kept().len();
    let cam = k.kx_camera_open(FRAME).unwrap();

    // 1,000 frames of 64 KiB from the acquisition thread, in order, none lost.
    let seen = Arc::new(Mutex::new(Vec::new()));
    k.kx_camera_on_frame(cam, Some(recorder(&seen, |_| 0))).unwrap();
    assert_eq!(k.kx_camera_start(cam, FRAMES), Ok(0));
    let delivered = k.kx_camera_wait(cam).unwrap();
    if listener {
        assert_eq!(delivered, 1, "the first frame got the default, which stops");
        assert!(seen.lock().unwrap().is_empty(), "no closure ran outside a call");
        k.kx_camera_close(cam).unwrap();
        assert_eq!(k.client().kept().len(), before);
        return;
    }
    assert_eq!(delivered, FRAMES as i32);
    assert!(all_frames(&seen.lock().unwrap(), FRAMES), "every frame, in order, right, off our thread");

    // Calls from inside: served by the acquisition thread while it waits (the frame being
    // delivered is not counted yet).
    let seen = Arc::new(Mutex::new(Vec::new()));
    let weak = Arc::downgrade(k);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let a = asked.clone();
    let ask = move |index: u32| {
        if index % 10 == 0 {
            let n = weak.upgrade().map(|k| k.kx_camera_delivered(cam));
            a.lock().unwrap().push((index, n));
        }
        0
    };
    k.kx_camera_on_frame(cam, Some(recorder(&seen, ask))).unwrap();
    assert_eq!(k.kx_camera_start(cam, 100), Ok(0));
    assert_eq!(k.kx_camera_wait(cam), Ok(100));
    assert!(all_frames(&seen.lock().unwrap(), 100));
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked, (0..10).map(|i| (i * 10, Some(Ok(i as i32 * 10)))).collect::<Vec<_>>());

    // A stop while frames are being delivered: the library thread finishes the frame it is
    // in (the stop waits for it) and no more come.
    let seen = Arc::new(Mutex::new(Vec::new()));
    k.kx_camera_on_frame(
        cam,
        Some(recorder(&seen, |_| {
            std::thread::sleep(std::time::Duration::from_millis(1));
            0
        })),
    )
    .unwrap();
    assert_eq!(k.kx_camera_start(cam, FRAMES), Ok(0));
    while seen.lock().unwrap().len() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let stopped = k.kx_camera_stop(cam).unwrap();
    assert!((20..FRAMES as i32).contains(&stopped), "stopped after {stopped} frames");
    assert!(all_frames(&seen.lock().unwrap(), stopped as u32), "every frame before the stop");
    assert!(k.client().take_callback_failures().is_empty());

    // A closure that panics: the library gets the default (-1, stop) and the client keeps
    // why (no call of it to fail).
    let seen = Arc::new(Mutex::new(Vec::new()));
    let panicky = |index: u32| {
        if index == 5 {
            panic!("frame five");
        }
        0
    };
    k.kx_camera_on_frame(cam, Some(recorder(&seen, panicky))).unwrap();
    assert_eq!(k.kx_camera_start(cam, FRAMES), Ok(0));
    assert_eq!(k.kx_camera_wait(cam), Ok(6), "stopped by the default at frame 5");
    let failures = k.client().take_callback_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].to_string().contains("frame five"), "{failures:?}");

    // Completion callbacks: each called once, by the later call that completes it, then
    // released.
    let done = Arc::new(Mutex::new(Vec::new()));
    let dropped = Arc::new(AtomicU32::new(0));
    let held = k.client().kept().len();
    for len in [10, 20, 30] {
        let (d, guard) = (done.clone(), Dropped(dropped.clone()));
        let on_done = move |id: i32, status: i32, n: u32| {
            let _ = &guard;
            d.lock().unwrap().push((id, status, n));
        };
        // The buffer stays in the host; this check reads none of them back (see
        // `retained_buffers`): they are freed when the camera closes.
        let _ = k.kx_camera_submit(cam, len as usize, Box::new(on_done)).unwrap();
    }
    assert_eq!(k.client().kept().len(), held + 3);
    assert!(done.lock().unwrap().is_empty(), "nothing completes before kx_camera_events");
    assert_eq!(k.kx_camera_events(cam), Ok(3));
    assert_eq!(*done.lock().unwrap(), [(1, 0, 10), (2, 0, 20), (3, 0, 30)]);
    assert_eq!(k.client().kept().len(), held, "called once: released");
    assert_eq!(dropped.load(SeqCst), 3, "and dropped");
    assert_eq!(k.kx_camera_events(cam), Ok(0));

    // The host killed mid-stream: the call in flight fails, nothing hangs, and the next call
    // gets a new host.
    let pid = k.client().host_pid().expect("a child host");
    let seen = Arc::new(Mutex::new(Vec::new()));
    k.kx_camera_on_frame(
        cam,
        Some(recorder(&seen, move |index| {
            if index == 50 {
                kill(pid);
            }
            0
        })),
    )
    .unwrap();
    assert_eq!(k.kx_camera_start(cam, FRAMES), Ok(0));
    match k.kx_camera_wait(cam) {
        Err(Error::HostCrashed(_)) => {}
        other => panic!("a killed host gave {other:?}"),
    }
    assert!(seen.lock().unwrap().len() <= 51, "no frame after the kill");
    assert_eq!(k.client().kept().len(), 0, "the closures went with the host");
    assert!(matches!(k.kx_camera_delivered(cam), Err(Error::BadHandle(_))), "the camera went with it");
    assert!(k.kx_camera_open(FRAME).is_ok(), "a new host answers");
}

/// Kills process `pid` at once.
fn kill(pid: u32) {
    #[cfg(windows)]
    let mut cmd = std::process::Command::new("taskkill");
    #[cfg(windows)]
    cmd.args(["/F", "/PID", &pid.to_string()]);
    #[cfg(not(windows))]
    let mut cmd = std::process::Command::new("kill");
    #[cfg(not(windows))]
    cmd.args(["-9", &pid.to_string()]);
    let _ = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status();
}

/// `kx_stream` in the 64-bit build.
#[repr(C)]
struct Stream64 {
    next_in: *const u8,
    avail_in: u32,
    total_in: u32,
    next_out: *mut u8,
    avail_out: u32,
    total_out: u32,
    msg: *const c_char,
    state: *mut c_void,
}

/// A struct that lives in the host (the library checks its address on every call): its
/// buffers bound per call, its output equal to the 64-bit build's, ended by the host when
/// dropped without its end function, refused once its host is gone. Over a listening host
/// (`listener`), another client cannot use it, and what a client leaves is freed when it
/// goes away.
pub fn resident_structs(k: &Kinds, d: &Direct, listener: Option<String>) {
    let init: extern "C" fn(*mut Stream64, u8) -> i32 = d.sym("kx_stream_init");
    let run: extern "C" fn(*mut Stream64) -> i32 = d.sym("kx_stream_run");
    let end: extern "C" fn(*mut Stream64) -> i32 = d.sym("kx_stream_end");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 300) as u8).collect();
    let rooms = [1000usize, 4096, 1, 65_536, 333];

    // SAFETY: all zeros is the stream's initial state.
    let mut n: Stream64 = unsafe { std::mem::zeroed() };
    assert_eq!(init(&mut n, 0x5a), 0);
    let mut theirs = Vec::new();
    let mut at = 0;
    for room in rooms.iter().cycle() {
        if at == data.len() {
            break;
        }
        let mut buf = vec![0u8; *room];
        n.next_in = data[at..].as_ptr();
        n.avail_in = (data.len() - at) as u32;
        n.next_out = buf.as_mut_ptr();
        n.avail_out = *room as u32;
        let moved = run(&mut n);
        at += moved as usize;
        theirs.extend_from_slice(&buf[..moved as usize]);
    }
    assert_eq!(end(&mut n), 0);

    let live = k.kx_streams_live().unwrap();
    let mut s = crate::api::KxStream::default();
    assert_eq!(k.kx_stream_init(&mut s, 0x5a), Ok(0));
    assert_eq!(k.kx_streams_live(), Ok(live + 1));
    s.next_in = data.clone();
    let mut ours = Vec::new();
    for room in rooms.iter().cycle() {
        if s.next_in.is_empty() {
            break;
        }
        s.avail_out = *room as u32;
        let moved = k.kx_stream_run(&mut s).unwrap();
        assert_eq!(moved as usize, s.next_out.len(), "produced what it says");
        assert_eq!(s.avail_out as usize, room - s.next_out.len(), "the room left, as the library counted it");
        ours.extend_from_slice(&s.next_out);
    }
    assert!(ours == theirs, "the same bytes as the 64-bit build");
    assert_eq!((s.total_in, s.total_out, s.msg.as_deref()), (data.len() as u32, data.len() as u32, None));
    // Ended by the client, then dropped: the host does not end it again.
    assert_eq!(k.kx_stream_end(&mut s), Ok(0));
    assert_eq!(k.kx_streams_live(), Ok(live));
    drop(s);
    assert_eq!(k.kx_streams_live(), Ok(live));
    // Dropped without its end: the host ends it before freeing it (before the next call).
    for key in 1..=3 {
        let mut t = crate::api::KxStream::default();
        assert_eq!(k.kx_stream_init(&mut t, key), Ok(0));
    }
    assert_eq!(k.kx_streams_live(), Ok(live), "ended by the host");
    if let Some(endpoint) = listener {
        let mut config = crate::api::Config::new(crate::api::HostPath::Explicit("kinds-host".into()), 0);
        config.listener = Some(endpoint);
        let other = Kinds::with_config(config);
        let mut mine = crate::api::KxStream::default();
        assert_eq!(k.kx_stream_init(&mut mine, 5), Ok(0));
        assert!(matches!(other.kx_stream_run(&mut mine), Err(Error::BadHandle(_))), "another client's");
        let mut theirs = crate::api::KxStream::default();
        assert_eq!(other.kx_stream_init(&mut theirs, 6), Ok(0));
        assert_eq!(k.kx_streams_live(), Ok(live + 2));
        std::mem::forget(theirs);
        drop(other);
        // The host frees what the other client left once its connection is gone.
        let mut waited = 0;
        while k.kx_streams_live() != Ok(live + 1) && waited < 200 {
            std::thread::sleep(std::time::Duration::from_millis(10));
            waited += 1;
        }
        assert_eq!(k.kx_streams_live(), Ok(live + 1), "the gone client's stream was ended");
        drop(mine);
        assert_eq!(k.kx_streams_live(), Ok(live));
    } else {
        // A host restarted: the object names nothing in the new one.
        let mut u = crate::api::KxStream::default();
        assert_eq!(k.kx_stream_init(&mut u, 9), Ok(0));
        k.client().restart();
        assert!(matches!(k.kx_stream_run(&mut u), Err(Error::BadHandle(_))), "a copy of an earlier host");
    }
}

/// The pattern byte `i` of camera transfer `t` has.
fn transfer_byte(t: i32, i: usize) -> u8 {
    (t as usize * 31 + i * 7) as u8
}

/// Buffers the library goes on writing after the call that passed them: a transfer
/// completed by a callback a later call fires, cancelled by closing the camera, and a read
/// in the style of overlapped I/O that the client releases once the library says it is done.
/// Reading one back before then is refused (the library may be writing it); the host frees
/// each once both sides let go.
pub fn retained_buffers(k: &std::sync::Arc<Kinds>) {
    use crate::api::Retained;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    let cam = k.kx_camera_open(64).unwrap();
    let tokens: Arc<Mutex<HashMap<i32, Retained<u8>>>> = Arc::default();
    let read_in_done = Arc::new(Mutex::new(Vec::new()));
    let lens = [1000u32, 64 << 10, 3];
    for len in lens {
        // The closure reads its transfer's buffer as soon as it completes (a call from
        // inside the callback, which the buffer's completion made readable).
        let (weak, held, seen) = (Arc::downgrade(k), tokens.clone(), read_in_done.clone());
        let on_done = move |id: i32, status: i32, n: u32| {
            let k = weak.upgrade().expect("the client");
            let held = held.lock().unwrap();
            let back = held.get(&id).map(|t| k.client().read_retained(t));
            seen.lock().unwrap().push((id, status, n, back));
        };
        let (id, buf) = k.kx_camera_submit(cam, len as usize, Box::new(on_done)).unwrap();
        assert_eq!(buf.len(), len as usize);
        match k.client().read_retained(&buf) {
            Err(Error::BadHandle(why)) => assert!(why.contains("still holds"), "{why}"),
            other => panic!("a buffer the camera still writes was read: {other:?}"),
        }
        tokens.lock().unwrap().insert(id, buf);
    }
    assert_eq!(k.kx_camera_events(cam), Ok(3));
    let seen = std::mem::take(&mut *read_in_done.lock().unwrap());
    assert_eq!(seen.len(), 3);
    for ((id, status, n, back), len) in seen.into_iter().zip(lens) {
        assert_eq!((status, n), (0, len));
        let back = back.expect("its token").expect("readable in its completion");
        assert!(back.iter().enumerate().all(|(i, b)| *b == transfer_byte(id, i)), "transfer {id}'s bytes");
    }
    // Read again after the call, then released: the host frees it.
    let (id, t) = tokens.lock().unwrap().drain().max_by_key(|(id, _)| *id).expect("three");
    let again = k.client().release_retained(t).unwrap();
    assert_eq!(again.len(), 3);
    assert_eq!(again[2], transfer_byte(id, 2));
    tokens.lock().unwrap().clear();

    // A write: the camera reads the buffer when the transfer completes, long after the call
    // (the host's copy of it lives until then), and says how much of it was right.
    let next = id + 1; // the camera numbers its transfers in order
    let data: Vec<u8> = (0..50_000).map(|i| transfer_byte(next, i)).collect();
    let matched = Arc::new(Mutex::new(Vec::new()));
    let m = matched.clone();
    let wid = k
        .kx_camera_write(
            cam,
            &data,
            Box::new(move |id: i32, status: i32, n: u32| m.lock().unwrap().push((id, status, n))),
        )
        .unwrap();
    assert_eq!(wid, next);
    // A second write between them, of zeros, reuses the host's call storage (the shared
    // region, or the heap block the first one's copy would have had).
    let m = matched.clone();
    let zeros = vec![0u8; data.len()];
    let cb = move |id: i32, status: i32, n: u32| m.lock().unwrap().push((id, status, n));
    assert_eq!(k.kx_camera_write(cam, &zeros, Box::new(cb)), Ok(next + 1));
    assert_eq!(k.kx_camera_events(cam), Ok(2));
    assert_eq!(
        *matched.lock().unwrap(),
        [(wid, 0, 50_000), (next + 1, 0, 0)],
        "the camera read each buffer as it was given"
    );

    // Overlapped style: no callback; the client ends the hold once the library says it is done.
    let (rid, buf) = k.kx_camera_read(cam, 4096).unwrap();
    assert_eq!(k.kx_camera_finished(cam, rid), Ok(0));
    assert!(matches!(k.client().read_retained(&buf), Err(Error::BadHandle(_))), "pending");
    assert_eq!(k.kx_camera_events(cam), Ok(1));
    assert_eq!(k.kx_camera_finished(cam, rid), Ok(1));
    let got = k.client().release_retained(buf).unwrap();
    assert!(got.iter().enumerate().all(|(i, b)| *b == transfer_byte(rid, i)));

    // Cancelled by closing the camera: `done` says so, and the buffer (untouched: zeroed) is
    // readable once the camera is gone.
    let cancelled = Arc::new(Mutex::new(Vec::new()));
    let c = cancelled.clone();
    let (_, buf) = k
        .kx_camera_submit(
            cam,
            16,
            Box::new(move |id: i32, status: i32, n: u32| c.lock().unwrap().push((id, status, n))),
        )
        .unwrap();
    let (_, never) = k.kx_camera_read(cam, 8).unwrap();
    k.kx_camera_close(cam).unwrap();
    assert_eq!(cancelled.lock().unwrap().iter().map(|c| (c.1, c.2)).collect::<Vec<_>>(), [(-1, 0)]);
    assert_eq!(k.client().read_retained(&buf).unwrap(), [0u8; 16]);
    assert_eq!(k.client().read_retained(&never).unwrap(), [0u8; 8], "the camera that held it closed");
    drop((buf, never));
    // A token whose buffer was freed (released, or from an earlier host) names nothing.
    let cam = k.kx_camera_open(64).unwrap();
    let (_, stale) = k.kx_camera_read(cam, 8).unwrap();
    k.client().restart();
    assert!(matches!(k.client().read_retained(&stale), Err(Error::BadHandle(_))), "from an earlier host");
}

/// What the queued-frames check shares with the closures it queues.
struct Queued {
    /// The test's thread.
    test: std::thread::ThreadId,
    /// The tokens of the buffers queued, by the camera's id for them.
    tokens: std::sync::Mutex<std::collections::HashMap<i32, crate::api::Retained<u8>>>,
    /// Per frame filled: its index, whether its bytes were right, whether it came on another
    /// thread than the test's.
    seen: std::sync::Mutex<Vec<FrameSeen>>,
    /// How many buffers were queued in all.
    queued: std::sync::atomic::AtomicU32,
}

/// Queues one buffer of `bytes` whose `filled` reads it back, records the frame, and queues
/// the next while fewer than `total` were.
fn queue_frame(
    k: &std::sync::Weak<Kinds>,
    cam: crate::api::Camera,
    bytes: usize,
    total: u32,
    q: &std::sync::Arc<Queued>,
) {
    use std::sync::atomic::Ordering::SeqCst;
    let Some(kinds) = k.upgrade() else { return };
    let (weak, state, test) = (k.clone(), q.clone(), q.test);
    let filled = move |id: i32, frame: u32, len: u32| {
        let Some(kinds) = weak.upgrade() else { return };
        let token = state.tokens.lock().unwrap().remove(&id).expect("a queued buffer's token");
        let back = kinds.client().read_retained(&token);
        let ok = back.is_ok_and(|b| {
            b.len() == len as usize
                && b.iter().enumerate().all(|(i, &x)| x == (frame as usize * 7 + i * 13) as u8)
        });
        state.seen.lock().unwrap().push((frame, ok, std::thread::current().id() != test));
        drop(token);
        if state.queued.load(SeqCst) < total {
            queue_frame(&weak, cam, bytes, total, &state);
        }
    };
    q.queued.fetch_add(1, SeqCst);
    let (id, token) = kinds.kx_camera_queue(cam, bytes, Box::new(filled)).expect("queued");
    q.tokens.lock().unwrap().insert(id, token);
}

/// 1,000 frames of 64 KiB into buffers the client queues: retained output buffers the
/// acquisition thread fills with no call in flight. Each `filled` (served by the dispatcher)
/// reads its buffer back and queues the next, both calls served by the waiting acquisition
/// thread; every frame arrives, in order, right. Closing the camera with buffers still
/// queued calls their `filled` with no frame, and leaves them readable (zeroed).
pub fn queued_frames(k: &std::sync::Arc<Kinds>) {
    const FRAME: usize = 64 << 10;
    const FRAMES: u32 = 1000;
    let cam = k.kx_camera_open(FRAME as u32).unwrap();
    let q = std::sync::Arc::new(Queued {
        test: std::thread::current().id(),
        tokens: Default::default(),
        seen: Default::default(),
        queued: Default::default(),
    });
    let weak = std::sync::Arc::downgrade(k);
    for _ in 0..4 {
        queue_frame(&weak, cam, FRAME, FRAMES, &q);
    }
    assert_eq!(k.kx_camera_start(cam, FRAMES), Ok(0));
    assert_eq!(k.kx_camera_wait(cam), Ok(FRAMES as i32));
    assert!(all_frames(&q.seen.lock().unwrap(), FRAMES), "every frame, in order, right, off our thread");
    assert!(k.client().take_callback_failures().is_empty());
    assert!(q.tokens.lock().unwrap().is_empty(), "each buffer filled, read and let go");
    // Two queued past the last frame: closing the camera tells each it was never filled.
    queue_frame(&weak, cam, FRAME, FRAMES, &q);
    queue_frame(&weak, cam, FRAME, FRAMES, &q);
    k.kx_camera_close(cam).unwrap();
    let seen = q.seen.lock().unwrap();
    assert_eq!(seen.len(), FRAMES as usize + 2);
    assert!(seen[FRAMES as usize..].iter().all(|s| s.0 == u32::MAX), "no frame");
}
