//! zlib's streaming API through the resident `z_stream`, against the same steps on the
//! 64-bit build: deflate and inflate in 64 KiB pieces at several levels, dictionaries,
//! deflateParams mid-stream, inflateReset, deflateCopy, deflateBound and deflatePending,
//! a corrupt stream's Z_DATA_ERROR with zlib's message, inflateBack, and a gzip header
//! deflateSetHeader sets (which zlib keeps, and writes again after deflateReset).

use crate::direct::Direct;
use crate::{Error, GzHeader, GzHeaderOut, ZStream, Zlib, UL};
use std::ffi::{c_char, c_void, CStr};

const Z_OK: i32 = 0;
const Z_STREAM_END: i32 = 1;
const Z_NEED_DICT: i32 = 2;
const Z_DATA_ERROR: i32 = -3;
const Z_BUF_ERROR: i32 = -5;
const Z_NO_FLUSH: i32 = 0;
const Z_FINISH: i32 = 4;

/// `z_stream` as the 64-bit build lays it out.
#[repr(C)]
struct Z64 {
    next_in: *const u8,
    avail_in: u32,
    total_in: UL,
    next_out: *mut u8,
    avail_out: u32,
    total_out: UL,
    msg: *const c_char,
    state: *mut c_void,
    zalloc: usize,
    zfree: usize,
    opaque: usize,
    data_type: i32,
    adler: UL,
    reserved: UL,
}

type Init = extern "C" fn(*mut Z64, i32, *const c_char, i32) -> i32;
type InflateInit = extern "C" fn(*mut Z64, *const c_char, i32) -> i32;
type Step = extern "C" fn(*mut Z64, i32) -> i32;
type End = extern "C" fn(*mut Z64) -> i32;
type Dict = extern "C" fn(*mut Z64, *const u8, u32) -> i32;
type Init2 = extern "C" fn(*mut Z64, i32, i32, i32, i32, i32, *const c_char, i32) -> i32;

/// `gz_header` as the 64-bit build lays it out.
#[repr(C)]
struct Gz64 {
    text: i32,
    time: UL,
    xflags: i32,
    os: i32,
    extra: *const u8,
    extra_len: u32,
    extra_max: u32,
    name: *const c_char,
    name_max: u32,
    comment: *const c_char,
    comm_max: u32,
    hcrc: i32,
    done: i32,
}

/// The 64-bit build's streaming functions.
pub struct Native {
    version: *const c_char,
    deflate_init: Init,
    deflate: Step,
    deflate_end: End,
    deflate_dict: Dict,
    deflate_params: extern "C" fn(*mut Z64, i32, i32) -> i32,
    deflate_bound: extern "C" fn(*mut Z64, UL) -> UL,
    inflate_init: InflateInit,
    inflate: Step,
    inflate_end: End,
    inflate_dict: Dict,
    inflate_reset: End,
    back_init: extern "C" fn(*mut Z64, i32, *mut u8, *const c_char, i32) -> i32,
    back: extern "C" fn(*mut Z64, BackIn, *mut c_void, BackOut, *mut c_void) -> i32,
    back_end: End,
    deflate_init2: Init2,
    set_header: extern "C" fn(*mut Z64, *mut Gz64) -> i32,
    deflate_reset: End,
}

type BackIn = extern "C" fn(*mut c_void, *mut *const u8) -> u32;
type BackOut = extern "C" fn(*mut c_void, *mut u8, u32) -> i32;

/// The native inflateBack's input: (the whole input, how far it went).
struct BackInput<'a>(&'a [u8], usize);

extern "C" fn back_in(desc: *mut c_void, buf: *mut *const u8) -> u32 {
    // SAFETY: `desc` is the `BackInput` of `inflate_back`; `buf` zlib's pointer to set.
    let input = unsafe { &mut *desc.cast::<BackInput<'_>>() };
    let piece = &input.0[input.1..(input.1 + PIECE).min(input.0.len())];
    input.1 += piece.len();
    // SAFETY: as above.
    unsafe { *buf = piece.as_ptr() };
    piece.len() as u32
}

extern "C" fn back_out(desc: *mut c_void, bytes: *mut u8, n: u32) -> i32 {
    // SAFETY: `desc` is the output vector of `inflate_back`; zlib passes `n` bytes.
    unsafe { (*desc.cast::<Vec<u8>>()).extend_from_slice(std::slice::from_raw_parts(bytes, n as usize)) };
    0
}

impl Native {
    /// inflateBack over `input` in 64 KiB pieces: its status, its output, and what it left
    /// unused of the last piece.
    fn inflate_back(&self, input: &[u8]) -> (i32, Vec<u8>, Vec<u8>) {
        // SAFETY: all zeros is zlib's initial state.
        let mut s: Box<Z64> = Box::new(unsafe { std::mem::zeroed() });
        let mut window = vec![0u8; 32768];
        assert_eq!(
            (self.back_init)(
                &mut *s,
                15,
                window.as_mut_ptr(),
                self.version,
                std::mem::size_of::<Z64>() as i32
            ),
            Z_OK
        );
        let mut from = BackInput(input, 0);
        let mut out: Vec<u8> = Vec::new();
        let rc = (self.back)(
            &mut *s,
            back_in,
            std::ptr::from_mut(&mut from).cast(),
            back_out,
            std::ptr::from_mut(&mut out).cast(),
        );
        let rest = if s.next_in.is_null() {
            Vec::new()
        } else {
            // SAFETY: zlib leaves `avail_in` bytes at `next_in`, inside the last piece.
            unsafe { std::slice::from_raw_parts(s.next_in, s.avail_in as usize) }.to_vec()
        };
        (self.back_end)(&mut *s);
        (rc, out, rest)
    }
}

impl Native {
    pub fn new(d: &Direct) -> Native {
        let version: extern "C" fn() -> *const c_char = d.sym("zlibVersion");
        Native {
            version: version(),
            deflate_init: d.sym("deflateInit_"),
            deflate: d.sym("deflate"),
            deflate_end: d.sym("deflateEnd"),
            deflate_dict: d.sym("deflateSetDictionary"),
            deflate_params: d.sym("deflateParams"),
            deflate_bound: d.sym("deflateBound"),
            inflate_init: d.sym("inflateInit_"),
            inflate: d.sym("inflate"),
            inflate_end: d.sym("inflateEnd"),
            inflate_dict: d.sym("inflateSetDictionary"),
            inflate_reset: d.sym("inflateReset"),
            back_init: d.sym("inflateBackInit_"),
            back: d.sym("inflateBack"),
            back_end: d.sym("inflateBackEnd"),
            deflate_init2: d.sym("deflateInit2_"),
            set_header: d.sym("deflateSetHeader"),
            deflate_reset: d.sym("deflateReset"),
        }
    }
}

/// One stream, either side: the same steps drive both.
trait Stream {
    /// One call of `deflate`/`inflate` on what is left of `input`, with `room` bytes of
    /// output: its status and what it produced; `input` is advanced past what it consumed.
    fn step(&mut self, input: &mut &[u8], room: usize, flush: i32) -> (i32, Vec<u8>);
    fn set_dictionary(&mut self, dict: &[u8]) -> i32;
    /// deflateParams with `room` bytes of output for what it flushes.
    fn params(&mut self, level: i32, strategy: i32, room: usize) -> (i32, Vec<u8>);
    fn reset(&mut self) -> i32;
    fn msg(&self) -> Option<String>;
    fn totals(&self) -> (UL, UL);
}

struct Ours<'z> {
    z: &'z Zlib,
    s: ZStream,
    deflating: bool,
}

impl Ours<'_> {
    fn bind(&mut self, input: &[u8], room: usize) {
        if self.s.next_in != input {
            self.s.next_in = input.to_vec();
        }
        self.s.avail_out = room as u32;
    }

    fn consumed(&self, input: &mut &[u8]) {
        assert!(input.ends_with(&self.s.next_in), "what is left is the input's end");
        *input = &input[input.len() - self.s.next_in.len()..];
    }
}

impl Stream for Ours<'_> {
    fn step(&mut self, input: &mut &[u8], room: usize, flush: i32) -> (i32, Vec<u8>) {
        self.bind(input, room);
        let rc = if self.deflating {
            self.z.deflate(&mut self.s, flush)
        } else {
            self.z.inflate(&mut self.s, flush)
        };
        self.consumed(input);
        assert_eq!(self.s.avail_out as usize, room - self.s.next_out.len(), "the room left agrees");
        (rc.unwrap(), std::mem::take(&mut self.s.next_out))
    }
    fn set_dictionary(&mut self, dict: &[u8]) -> i32 {
        let r = if self.deflating {
            self.z.deflateSetDictionary(&mut self.s, dict)
        } else {
            self.z.inflateSetDictionary(&mut self.s, dict)
        };
        code(r)
    }
    fn params(&mut self, level: i32, strategy: i32, room: usize) -> (i32, Vec<u8>) {
        self.s.next_in.clear();
        self.s.avail_out = room as u32;
        let rc = code(self.z.deflateParams(&mut self.s, level, strategy));
        (rc, std::mem::take(&mut self.s.next_out))
    }
    fn reset(&mut self) -> i32 {
        code(self.z.inflateReset(&mut self.s))
    }
    fn msg(&self) -> Option<String> {
        self.s.msg.clone()
    }
    fn totals(&self) -> (UL, UL) {
        (UL::from(self.s.total_in), UL::from(self.s.total_out))
    }
}

impl Drop for Ours<'_> {
    fn drop(&mut self) {
        let r = if self.deflating { self.z.deflateEnd(&mut self.s) } else { self.z.inflateEnd(&mut self.s) };
        assert_eq!(r.map(|_| ()), Ok(()));
    }
}

/// A result whose error rule may fire: the status either way.
fn code(r: Result<i32, crate::Error>) -> i32 {
    match r {
        Ok(v) => v,
        Err(crate::Error::Library(c)) => c as i32,
        Err(e) => panic!("{e}"),
    }
}

struct Theirs<'n> {
    n: &'n Native,
    s: Box<Z64>,
    deflating: bool,
}

impl Theirs<'_> {
    fn new(n: &Native, deflating: bool, level: i32) -> Theirs<'_> {
        // SAFETY: all zeros is zlib's documented initial state (Z_NULL allocators).
        let mut s: Box<Z64> = Box::new(unsafe { std::mem::zeroed() });
        let size = std::mem::size_of::<Z64>() as i32;
        let rc = if deflating {
            (n.deflate_init)(&mut *s, level, n.version, size)
        } else {
            (n.inflate_init)(&mut *s, n.version, size)
        };
        assert_eq!(rc, Z_OK);
        Theirs { n, s, deflating }
    }
}

impl Stream for Theirs<'_> {
    fn step(&mut self, input: &mut &[u8], room: usize, flush: i32) -> (i32, Vec<u8>) {
        let mut out = vec![0u8; room];
        self.s.next_in = input.as_ptr();
        self.s.avail_in = input.len() as u32;
        self.s.next_out = out.as_mut_ptr();
        self.s.avail_out = room as u32;
        let rc = if self.deflating {
            (self.n.deflate)(&mut *self.s, flush)
        } else {
            (self.n.inflate)(&mut *self.s, flush)
        };
        *input = &input[input.len() - self.s.avail_in as usize..];
        out.truncate(room - self.s.avail_out as usize);
        (rc, out)
    }
    fn set_dictionary(&mut self, dict: &[u8]) -> i32 {
        let f = if self.deflating { self.n.deflate_dict } else { self.n.inflate_dict };
        f(&mut *self.s, dict.as_ptr(), dict.len() as u32)
    }
    fn params(&mut self, level: i32, strategy: i32, room: usize) -> (i32, Vec<u8>) {
        let mut out = vec![0u8; room];
        self.s.avail_in = 0;
        self.s.next_out = out.as_mut_ptr();
        self.s.avail_out = room as u32;
        let rc = (self.n.deflate_params)(&mut *self.s, level, strategy);
        out.truncate(room - self.s.avail_out as usize);
        (rc, out)
    }
    fn reset(&mut self) -> i32 {
        (self.n.inflate_reset)(&mut *self.s)
    }
    fn msg(&self) -> Option<String> {
        // SAFETY: NULL or one of zlib's static messages.
        (!self.s.msg.is_null()).then(|| unsafe { CStr::from_ptr(self.s.msg) }.to_string_lossy().into_owned())
    }
    fn totals(&self) -> (UL, UL) {
        (self.s.total_in, self.s.total_out)
    }
}

impl Drop for Theirs<'_> {
    fn drop(&mut self) {
        let f = if self.deflating { self.n.deflate_end } else { self.n.inflate_end };
        f(&mut *self.s);
    }
}

const PIECE: usize = 64 << 10;

/// Deflates `data` in 64 KiB pieces of input with 64 KiB of room per call (a dictionary
/// first; `params`: after that many pieces, switch level and strategy).
fn deflate_all(
    s: &mut dyn Stream,
    data: &[u8],
    dict: Option<&[u8]>,
    params: Option<(usize, i32, i32)>,
) -> Vec<u8> {
    if let Some(d) = dict {
        assert_eq!(s.set_dictionary(d), Z_OK);
    }
    let mut out = Vec::new();
    let pieces: Vec<&[u8]> = data.chunks(PIECE).collect();
    for (i, piece) in pieces.iter().enumerate() {
        if let Some((at, level, strategy)) = params.filter(|p| p.0 == i) {
            let _ = at;
            let (rc, made) = s.params(level, strategy, PIECE);
            assert!(rc == Z_OK || rc == Z_BUF_ERROR, "deflateParams: {rc}");
            out.extend_from_slice(&made);
        }
        let flush = if i + 1 == pieces.len() { Z_FINISH } else { Z_NO_FLUSH };
        let mut input = *piece;
        loop {
            let (rc, made) = s.step(&mut input, PIECE, flush);
            out.extend_from_slice(&made);
            assert!(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR, "deflate: {rc}");
            if flush == Z_FINISH && rc == Z_STREAM_END
                || flush == Z_NO_FLUSH && input.is_empty() && made.len() < PIECE
            {
                break;
            }
        }
    }
    out
}

/// Inflates `packed` in 64 KiB pieces; a dictionary when zlib asks for one. The output and
/// the last status.
fn inflate_all(s: &mut dyn Stream, packed: &[u8], dict: Option<&[u8]>) -> (Vec<u8>, i32) {
    let mut out = Vec::new();
    for piece in packed.chunks(PIECE) {
        let mut input = piece;
        loop {
            let (mut rc, made) = s.step(&mut input, PIECE, Z_NO_FLUSH);
            out.extend_from_slice(&made);
            if rc == Z_NEED_DICT {
                rc = s.set_dictionary(dict.expect("zlib asks for the dictionary"));
                assert_eq!(rc, Z_OK);
                continue;
            }
            if rc == Z_STREAM_END || rc < 0 && rc != Z_BUF_ERROR {
                return (out, rc);
            }
            if input.is_empty() && made.len() < PIECE {
                break;
            }
        }
    }
    (out, Z_BUF_ERROR)
}

fn ours(z: &Zlib, deflating: bool, level: i32) -> Ours<'_> {
    let mut s = ZStream::default();
    let rc = if deflating { z.deflateInit_(&mut s, level) } else { z.inflateInit_(&mut s) };
    assert_eq!(rc, Ok(Z_OK));
    Ours { z, s, deflating }
}

/// A gzip stream of `data` with a header of its own (extra field, name, comment, header
/// CRC), deflated twice through one stream (deflateReset between: zlib writes the header it
/// kept again), through the host and natively: the same bytes.
fn gzip_header(z: &Zlib, n: &Native, data: &[u8]) {
    // (inflateGetHeader then reads the header back from one of them, as zlib fills it.)
    // An extra field large enough to travel in the shared region if it were only the call's.
    let extra: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (name, comment) = ("data.bin", "made by dllgen's zlib check");
    let mut s = ZStream::default();
    assert_eq!(z.deflateInit2_(&mut s, 6, 8, 31, 8, 0), Ok(Z_OK));
    let head = GzHeader {
        text: 1,
        time: 1_700_000_000,
        os: 3,
        extra: Some(extra.clone()),
        name: Some(name.into()),
        comment: Some(comment.into()),
        hcrc: 1,
        ..GzHeader::default()
    };
    assert_eq!(z.deflateSetHeader(&mut s, &head), Ok(Z_OK));
    drop(head);
    // A copy made now points to the same header (zlib copies its state): it stays kept for
    // the copy when the original is ended and freed.
    let mut copy = ZStream::default();
    {
        let mut original = ZStream::default();
        assert_eq!(z.deflateInit2_(&mut original, 6, 8, 31, 8, 0), Ok(Z_OK));
        let other =
            GzHeader { name: Some(name.into()), comment: Some(comment.into()), ..GzHeader::default() };
        assert_eq!(z.deflateSetHeader(&mut original, &other), Ok(Z_OK));
        assert_eq!(z.deflateCopy(&mut copy, &mut original), Ok(Z_OK));
        drop(Ours { z, s: original, deflating: true });
    }
    let copied = deflate_all(&mut Ours { z, s: copy, deflating: true }, data, None, None);
    assert!(copied.windows(comment.len()).any(|w| w == comment.as_bytes()), "the copy wrote the kept header");
    let mut ours = Ours { z, s, deflating: true };
    let first = deflate_all(&mut ours, data, None, None);
    assert_eq!(code(z.deflateReset(&mut ours.s)), Z_OK);
    let second = deflate_all(&mut ours, data, None, None);

    // SAFETY: all zeros is zlib's initial state; the header and what it points to outlive
    // the stream's use of them (both end in this function, the stream first).
    let mut t: Box<Z64> = Box::new(unsafe { std::mem::zeroed() });
    let size = std::mem::size_of::<Z64>() as i32;
    assert_eq!((n.deflate_init2)(&mut *t, 6, 8, 31, 8, 0, n.version, size), Z_OK);
    let (name_c, comment_c) =
        (std::ffi::CString::new(name).unwrap(), std::ffi::CString::new(comment).unwrap());
    let mut h = Gz64 {
        text: 1,
        time: 1_700_000_000,
        xflags: 0,
        os: 3,
        extra: extra.as_ptr(),
        extra_len: extra.len() as u32,
        extra_max: 0,
        name: name_c.as_ptr(),
        name_max: 0,
        comment: comment_c.as_ptr(),
        comm_max: 0,
        hcrc: 1,
        done: 0,
    };
    assert_eq!((n.set_header)(&mut *t, &mut h), Z_OK);
    let mut theirs = Theirs { n, s: t, deflating: true };
    let native = deflate_all(&mut theirs, data, None, None);
    assert_eq!((n.deflate_reset)(&mut *theirs.s), Z_OK);
    let native_again = deflate_all(&mut theirs, data, None, None);
    drop(theirs);
    assert!(
        first == native,
        "the gzip stream with its header: {} bytes against {}",
        first.len(),
        native.len()
    );
    assert!(second == native_again, "after deflateReset, the kept header again");
    assert_eq!(&first[..3], [0x1f, 0x8b, 8], "a gzip stream");
    assert!(first.windows(name.len()).any(|w| w == name.as_bytes()), "the name is in it");

    // Read back: inflateGetHeader gives zlib a header to fill as it reads the gzip header
    // in later inflate calls; the client reads it through its token between calls.
    let mut s = ZStream::default();
    assert_eq!(z.inflateInit2_(&mut s, 31), Ok(Z_OK));
    let want = GzHeaderOut { extra_max: 65535, name_max: 64, comm_max: 64, ..GzHeaderOut::default() };
    let (rc, head) = z.inflateGetHeader(&mut s, &want).unwrap();
    assert_eq!(rc, Z_OK);
    let before = z.client().read_retained_value(&head).unwrap();
    assert_eq!((before.done, before.name.len()), (0, 0), "nothing read yet");
    let mut inf = Ours { z, s, deflating: false };
    // The first 10 bytes: the fixed part of the gzip header only.
    let mut input = &first[..10];
    let (rc, _) = inf.step(&mut input, PIECE, Z_NO_FLUSH);
    assert_eq!(rc, Z_OK);
    let part = z.client().read_retained_value(&head).unwrap();
    assert_eq!((part.done, part.os, part.time), (0, 3, 1_700_000_000), "the fixed part, not done");
    let (back, rc) = inflate_all(&mut inf, &first[10..], None);
    assert_eq!((rc, back == data), (Z_STREAM_END, true));
    let got = z.client().read_retained_value(&head).unwrap();
    assert_eq!((got.done, got.text, got.os, got.hcrc), (1, 1, 3, 1));
    assert_eq!(got.time, 1_700_000_000);
    assert!(got.extra == extra, "the extra field, {} bytes", got.extra.len());
    assert_eq!((got.name.as_slice(), got.comment.as_slice()), (name.as_bytes(), comment.as_bytes()));
    drop(inf);
    assert!(z.client().read_retained_value(&head).is_ok(), "readable after the stream ended, until dropped");
    // A name longer than its capacity: zlib stops at the capacity (no NUL); read as such.
    let mut s = ZStream::default();
    assert_eq!(z.inflateInit2_(&mut s, 31), Ok(Z_OK));
    let small_name = GzHeaderOut { extra_max: 65535, name_max: 4, comm_max: 64, ..GzHeaderOut::default() };
    let (_, head) = z.inflateGetHeader(&mut s, &small_name).unwrap();
    let mut inf = Ours { z, s, deflating: false };
    let _ = inflate_all(&mut inf, &first, None);
    assert_eq!(z.client().read_retained_value(&head).unwrap().name, b"data", "truncated at name_max");
}

pub fn check(z: &Zlib, n: &Native) {
    let data = crate::data(8 << 20, 99);
    for level in [1, 6, 9] {
        let packed = deflate_all(&mut ours(z, true, level), &data, None, None);
        let theirs = deflate_all(&mut Theirs::new(n, true, level), &data, None, None);
        assert!(packed == theirs, "level {level}: {} bytes against {}", packed.len(), theirs.len());
        let mut inf = ours(z, false, 0);
        let (back, rc) = inflate_all(&mut inf, &packed, None);
        assert_eq!(rc, Z_STREAM_END);
        assert!(back == data, "level {level}: inflated back");
        assert_eq!(inf.totals(), (packed.len() as UL, data.len() as UL));
    }
    println!("ok: deflate and inflate 8 MiB in 64 KiB pieces, levels 1, 6 and 9, byte-exact");

    // Dictionaries: the same stream, and inflate asking for the dictionary.
    let dict: Vec<u8> = crate::data(4096, 5);
    let small = crate::data(300_000, 6);
    let packed = deflate_all(&mut ours(z, true, 6), &small, Some(&dict), None);
    assert!(packed == deflate_all(&mut Theirs::new(n, true, 6), &small, Some(&dict), None));
    let (back, rc) = inflate_all(&mut ours(z, false, 0), &packed, Some(&dict));
    assert_eq!((rc, back == small), (Z_STREAM_END, true));
    // deflateParams after the first 2 pieces: level 9, Z_FILTERED (1).
    let switched = deflate_all(&mut ours(z, true, 1), &data[..1 << 20], None, Some((2, 9, 1)));
    assert!(switched == deflate_all(&mut Theirs::new(n, true, 1), &data[..1 << 20], None, Some((2, 9, 1))));
    let (back, _) = inflate_all(&mut ours(z, false, 0), &switched, None);
    assert!(back == data[..1 << 20]);
    println!("ok: dictionaries and deflateParams mid-stream");

    // inflateReset: one object, two streams.
    let mut inf = ours(z, false, 0);
    let a = deflate_all(&mut ours(z, true, 6), &small, None, None);
    let (back, rc) = inflate_all(&mut inf, &a, None);
    assert_eq!((rc, back == small), (Z_STREAM_END, true));
    assert_eq!(inf.reset(), Z_OK);
    assert_eq!(inf.totals(), (0, 0), "reset");
    let (back, rc) = inflate_all(&mut inf, &a[..a.len() / 2], None);
    assert_eq!(rc, Z_BUF_ERROR, "half a stream: more input wanted");
    assert!(small.starts_with(&back));
    // A corrupt stream: Z_DATA_ERROR and zlib's own message, as natively.
    let mut bad = a.clone();
    bad[2] ^= 0xff;
    let (mut ours_bad, mut theirs_bad) = (ours(z, false, 0), Theirs::new(n, false, 0));
    let (_, rc) = inflate_all(&mut ours_bad, &bad, None);
    let (_, rc64) = inflate_all(&mut theirs_bad, &bad, None);
    assert_eq!(rc, rc64);
    assert_eq!(rc, Z_DATA_ERROR);
    assert_eq!(ours_bad.msg(), theirs_bad.msg());
    assert!(ours_bad.msg().is_some());
    println!("ok: inflateReset, and a corrupt stream's Z_DATA_ERROR with zlib's message");

    // deflateBound on a live stream, deflateCopy (both then go on alike), deflatePending.
    let mut a = ours(z, true, 6);
    let t = Theirs::new(n, true, 6);
    let mut t = t;
    assert_eq!(UL::from(z.deflateBound(&mut a.s, 1 << 20).unwrap()), (n.deflate_bound)(&mut *t.s, 1 << 20));
    let mut input = &small[..100_000];
    let (_, first) = a.step(&mut input, PIECE, Z_NO_FLUSH);
    assert!(input.is_empty());
    // Copied with nothing bound: zlib copies the source's pointers along.
    a.s.next_in.clear();
    a.s.avail_out = 0;
    let mut copy = ZStream::default();
    assert_eq!(z.deflateCopy(&mut copy, &mut a.s), Ok(Z_OK));
    let mut b = Ours { z, s: copy, deflating: true };
    let (rest_a, rest_b) = (
        deflate_all(&mut a, &small[100_000..], None, None),
        deflate_all(&mut b, &small[100_000..], None, None),
    );
    assert!(rest_a == rest_b, "a copy goes on as its original");
    let whole: Vec<u8> = first.iter().chain(&rest_a).copied().collect();
    let (back, rc) = inflate_all(&mut ours(z, false, 0), &whole, None);
    assert_eq!((rc, back == small), (Z_STREAM_END, true));
    let mut p = ours(z, true, 6);
    let mut input = &small[..1000];
    let (_, made) = p.step(&mut input, 10, Z_FINISH);
    assert_eq!(made.len(), 10, "as much as it had room for");
    let (rc, pending, _bits) = z.deflatePending(&mut p.s).unwrap();
    assert_eq!(rc, Z_OK);
    assert!(pending > 0, "output waiting for room");
    println!("ok: deflateBound, deflateCopy and deflatePending");

    gzip_header(z, n, &small);
    println!(
        "ok: a gzip header deflateSetHeader sets, kept by the stream and written again after deflateReset; inflateGetHeader reads it back"
    );

    // inflateBack: a raw deflate stream, its input handed over by a callback 64 KiB at a
    // time (kept by zlib until it asks again), its output given to another; the window is
    // the host's, kept with the stream until inflateBackEnd. Against the 64-bit build.
    let raw = {
        let mut s = ZStream::default();
        assert_eq!(z.deflateInit2_(&mut s, 6, 8, -15, 8, 0), Ok(Z_OK));
        deflate_all(&mut Ours { z, s, deflating: true }, &data[..3 << 20], None, None)
    };
    // The stream followed by bytes that are not its own: inflateBack leaves them in next_in.
    let trailed: Vec<u8> = raw.iter().copied().chain(*b"TRAILER").collect();
    for cut in [trailed.len(), raw.len() / 2] {
        let input = &trailed[..cut];
        let mut back = ZStream::default();
        assert_eq!(z.inflateBackInit_(&mut back, 15), Ok(Z_OK));
        let mut at = 0;
        let mut give = |buf: &mut Vec<u8>| {
            let piece = &input[at..(at + PIECE).min(input.len())];
            at += piece.len();
            buf.extend_from_slice(piece);
            piece.len() as u32
        };
        let mut ours_out = Vec::new();
        let mut take = |bytes: &[u8], n: u32| {
            assert_eq!(bytes.len(), n as usize);
            ours_out.extend_from_slice(bytes);
            0
        };
        let rc = z.inflateBack(&mut back, &mut give, &mut take).unwrap();
        let rest = std::mem::take(&mut back.next_in);
        assert!(
            matches!(z.inflateEnd(&mut back), Err(Error::BadHandle(_))),
            "not the end function of inflateBackInit_"
        );
        assert_eq!(z.inflateBackEnd(&mut back), Ok(Z_OK));
        let (theirs_rc, theirs_out, theirs_rest) = n.inflate_back(input);
        assert_eq!((rc, ours_out.len()), (theirs_rc, theirs_out.len()), "inflateBack of {cut} bytes");
        assert!(ours_out == theirs_out);
        assert_eq!(rest, theirs_rest, "what it did not use");
        if cut == trailed.len() {
            assert_eq!(rc, Z_STREAM_END);
            assert!(ours_out == data[..3 << 20]);
            assert_eq!(rest, b"TRAILER");
        }
    }
    println!("ok: inflateBack with its input and output callbacks, the window kept in the host");

    // Dropped streams are ended and freed in the host: many in a row cost nothing that
    // stays (each deflate state is about 256 KiB of host memory).
    for _ in 0..500 {
        let mut s = ZStream::default();
        assert_eq!(z.deflateInit_(&mut s, 9), Ok(Z_OK));
    }
    assert_eq!(z.compressBound(10), Ok(23), "the host lives on");
}
