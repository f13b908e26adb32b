//! Small conversions generated code uses around each call (kept here, not in templates,
//! so they are written and tested once): lengths, C strings, values that cross field by
//! field ([`Value`] on the client, [`CValue`] on the host), bit-fields.

use crate::wire::{Element, Reader, WireError, Writer};
use std::cell::RefCell;
use std::marker::PhantomData;

/// A length from the client as the C type, refused when it does not fit.
pub fn fit<T: TryFrom<u64>>(v: u64) -> Result<T, WireError> {
    T::try_from(v).map_err(|_| WireError::Payload("a length does not fit the C type"))
}

/// A computed length (`None`: it overflowed or divided by zero), refused unless it is a
/// count: not negative, within `u64`.
pub fn length(v: Option<i128>) -> Result<u64, WireError> {
    v.and_then(|v| u64::try_from(v).ok())
        .ok_or(WireError::Payload("a length expression overflows, divides by zero or is negative"))
}

/// The largest out-buffer a host allocates for one parameter.
pub const MAX_OUT_BUFFER: u64 = 64 << 20;

/// How many elements of `elem_size` bytes an out-buffer needs so the library can write
/// `len` (elements, or bytes when `bytes`; rounded up), refused above [`MAX_OUT_BUFFER`]
/// bytes, so the allocation is never smaller than what the library may write.
pub fn out_elements(len: u64, bytes: bool, elem_size: u64) -> Result<usize, WireError> {
    let elem_size = elem_size.max(1);
    let elements = if bytes { len.div_ceil(elem_size) } else { len };
    elements
        .checked_mul(elem_size)
        .filter(|b| *b <= MAX_OUT_BUFFER)
        .and_then(|_| usize::try_from(elements).ok())
        .ok_or(WireError::Payload("an output buffer larger than 64 MiB"))
}

/// How many elements of an out-buffer of `capacity` the library filled, from the count it
/// reported (its return value or an out-parameter): a count above the capacity or below
/// zero is an error, never clamped into a plausible-looking result.
pub fn filled<T: TryInto<i128>>(reported: T, capacity: usize) -> Result<usize, WireError> {
    let count = reported.try_into().unwrap_or(i128::MAX);
    usize::try_from(count)
        .ok()
        .filter(|n| *n <= capacity)
        .ok_or(WireError::Reported { count, capacity: capacity as u64 })
}

/// The bytes of a NUL-terminated C string (without the NUL).
///
/// # Safety
/// `p` points to a NUL-terminated string that outlives the result.
pub unsafe fn c_bytes<'a>(p: *const u8) -> &'a [u8] {
    let mut n = 0;
    // SAFETY: the caller promises a NUL within the string, so every byte read up to it is
    // inside it, and the bytes before it stay valid as long as the result.
    unsafe {
        while *p.add(n) != 0 {
            n += 1;
        }
        std::slice::from_raw_parts(p, n)
    }
}

/// The units of a NUL-terminated UTF-16 string (without the NUL).
///
/// # Safety
/// `p` points to a NUL-terminated UTF-16 string that outlives the result.
pub unsafe fn c_units<'a>(p: *const u16) -> &'a [u16] {
    let mut n = 0;
    // SAFETY: as for `c_bytes`, in units.
    unsafe {
        while *p.add(n) != 0 {
            n += 1;
        }
        std::slice::from_raw_parts(p, n)
    }
}

/// A string argument with its NUL added.
pub fn with_nul(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len() + 1);
    v.extend_from_slice(b);
    v.push(0);
    v
}

/// A UTF-16 argument (sent as little-endian units) with its NUL added.
pub fn units_with_nul(b: &[u8]) -> Vec<u16> {
    let mut v: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    v.push(0);
    v
}

/// A value the client sends and receives field by field: numbers, `bool`, fixed arrays,
/// and the structs a generated client declares.
pub trait Value: Sized {
    /// Appends the value.
    fn put(&self, w: &mut Writer);
    /// Reads one value.
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError>;
}

/// A value the host decodes into C memory: numbers, fixed arrays, and the `#[repr(C)]`
/// structs a generated host declares (string fields point into a [`Keep`]).
pub trait CValue: Sized {
    /// Reads one value; strings it points to are kept alive by `keep`.
    fn get_c(r: &mut Reader<'_>, keep: &mut Keep) -> Result<Self, WireError>;
    /// Appends the value (strings it points to are read, so they must be valid).
    fn put_c(&self, w: &mut Writer);
}

macro_rules! values {
    ($($t:ident),*) => {$(
        impl Value for $t {
            fn put(&self, w: &mut Writer) {
                w.$t(*self);
            }
            fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
                r.$t()
            }
        }
        impl CValue for $t {
            fn get_c(r: &mut Reader<'_>, _: &mut Keep) -> Result<Self, WireError> {
                r.$t()
            }
            fn put_c(&self, w: &mut Writer) {
                w.$t(*self);
            }
        }
    )*};
}
values!(i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

impl Value for bool {
    fn put(&self, w: &mut Writer) {
        w.u8(u8::from(*self));
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(r.u8()? != 0)
    }
}

fn array<T, const N: usize>(mut get: impl FnMut() -> Result<T, WireError>) -> Result<[T; N], WireError> {
    let mut v = Vec::with_capacity(N);
    for _ in 0..N {
        v.push(get()?);
    }
    v.try_into().map_err(|_| WireError::Payload("array length"))
}

impl<T: Value, const N: usize> Value for [T; N] {
    fn put(&self, w: &mut Writer) {
        for e in self {
            e.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        array(|| T::get(r))
    }
}

impl<T: CValue, const N: usize> CValue for [T; N] {
    fn get_c(r: &mut Reader<'_>, keep: &mut Keep) -> Result<Self, WireError> {
        array(|| T::get_c(r, keep))
    }
    fn put_c(&self, w: &mut Writer) {
        for e in self {
            e.put_c(w);
        }
    }
}

/// A count of values that follow, refused when the payload cannot hold that many (every
/// value takes at least one byte on the wire), so a bad count never allocates.
fn count(r: &mut Reader<'_>) -> Result<usize, WireError> {
    let n = r.u32()? as usize;
    if n > r.remaining() {
        return Err(WireError::Payload("more values than bytes"));
    }
    Ok(n)
}

impl Writer {
    /// A slice of values: `u32` count, then each value.
    pub fn values<T: Value>(&mut self, v: &[T]) -> &mut Self {
        self.u32(v.len() as u32);
        for e in v {
            e.put(self);
        }
        self
    }

    /// A slice of C values (host side): `u32` count, then each value.
    pub fn c_values<T: CValue>(&mut self, v: &[T]) -> &mut Self {
        self.u32(v.len() as u32);
        for e in v {
            e.put_c(self);
        }
        self
    }
}

impl Reader<'_> {
    /// Values written by [`Writer::values`].
    pub fn values<T: Value>(&mut self) -> Result<Vec<T>, WireError> {
        self.values_at_most(usize::MAX)
    }

    /// [`Reader::values`], at most `max` of them (an out-buffer of that capacity): a
    /// larger count is refused before any value is read or stored.
    pub fn values_at_most<T: Value>(&mut self, max: usize) -> Result<Vec<T>, WireError> {
        let n = count(self)?;
        if n > max {
            return Err(WireError::OverCapacity { len: n as u64, max: max as u64, unit: "values" });
        }
        (0..n).map(|_| T::get(self)).collect()
    }

    /// C values written by [`Writer::values`] (host side).
    pub fn c_values<T: CValue>(&mut self, keep: &mut Keep) -> Result<Vec<T>, WireError> {
        let n = count(self)?;
        (0..n).map(|_| T::get_c(self, keep)).collect()
    }
}

/// C strings the host made for one call's struct fields: alive until the call returns.
#[derive(Debug, Default)]
pub struct Keep {
    bytes: Vec<Vec<u8>>,
    units: Vec<Vec<u16>>,
}

impl Keep {
    /// A string field written by [`put_str`]: a NUL-terminated copy, or NULL.
    pub fn str(&mut self, r: &mut Reader<'_>) -> Result<*const u8, WireError> {
        if r.u8()? == 0 {
            return Ok(std::ptr::null());
        }
        let c = with_nul(r.bytes()?);
        let p = c.as_ptr();
        // The heap block does not move when `bytes` grows: `p` stays valid.
        self.bytes.push(c);
        Ok(p)
    }

    /// A UTF-16 string field written by [`put_wide`]: a NUL-terminated copy, or NULL.
    pub fn wide(&mut self, r: &mut Reader<'_>) -> Result<*const u16, WireError> {
        if r.u8()? == 0 {
            return Ok(std::ptr::null());
        }
        let c = units_with_nul(r.bytes()?);
        let p = c.as_ptr();
        self.units.push(c);
        Ok(p)
    }
}

/// Writes a string field (client side): present flag, then UTF-8 bytes.
pub fn put_str(w: &mut Writer, s: Option<&str>) {
    match s {
        Some(s) => w.u8(1).bytes(s.as_bytes()),
        None => w.u8(0),
    };
}

/// Writes a UTF-16 string field (client side): present flag, then little-endian units.
pub fn put_wide(w: &mut Writer, s: Option<&str>) {
    match s {
        Some(s) => w.u8(1).elements(&s.encode_utf16().collect::<Vec<u16>>()),
        None => w.u8(0),
    };
}

/// Reads a string field (client side); invalid UTF-8 is replaced.
pub fn get_str(r: &mut Reader<'_>) -> Result<Option<String>, WireError> {
    Ok(if r.u8()? == 0 { None } else { Some(r.string()?) })
}

/// Reads a UTF-16 string field (client side); unpaired surrogates are replaced.
pub fn get_wide(r: &mut Reader<'_>) -> Result<Option<String>, WireError> {
    Ok(if r.u8()? == 0 { None } else { Some(String::from_utf16_lossy(&r.elements::<u16>()?)) })
}

/// Writes a string field the library filled (host side): NULL or the string.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
pub unsafe fn put_c_str(w: &mut Writer, p: *const u8) {
    if p.is_null() {
        w.u8(0);
    } else {
        // SAFETY: not NULL, so a NUL-terminated string (the caller's promise).
        w.u8(1).bytes(unsafe { c_bytes(p) });
    }
}

/// Writes a UTF-16 string field the library filled (host side): NULL or the string.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated UTF-16 string.
pub unsafe fn put_c_wide(w: &mut Writer, p: *const u16) {
    if p.is_null() {
        w.u8(0);
    } else {
        // SAFETY: not NULL, so a NUL-terminated UTF-16 string (the caller's promise).
        w.u8(1).elements(unsafe { c_units(p) });
    }
}

/// Reads `width` bits starting `bit` bits into `bytes` (x86 order: low bits first),
/// sign-extended when `signed`.
pub fn get_bits(bytes: &[u8], bit: u32, width: u32, signed: bool) -> u64 {
    let mut v = 0u64;
    for i in 0..width.min(64) {
        let at = bit + i;
        if bytes.get((at / 8) as usize).is_some_and(|b| b >> (at % 8) & 1 == 1) {
            v |= 1 << i;
        }
    }
    if signed && width > 0 && width < 64 && v >> (width - 1) & 1 == 1 {
        v |= u64::MAX << width;
    }
    v
}

/// Stores the low `width` bits of `v` starting `bit` bits into `bytes`; other bits are
/// kept.
pub fn set_bits(bytes: &mut [u8], bit: u32, width: u32, v: u64) {
    for i in 0..width.min(64) {
        let at = bit + i;
        if let Some(b) = bytes.get_mut((at / 8) as usize) {
            let mask = 1u8 << (at % 8);
            if v >> i & 1 == 1 {
                *b |= mask;
            } else {
                *b &= !mask;
            }
        }
    }
}

thread_local! {
    /// Storage of finished [`Scratch`] buffers, reused by the next call on this thread.
    static POOL: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
}

/// Buffers kept in the pool at most, and the largest kept.
const POOL_BUFFERS: usize = 8;
const POOL_MAX_BYTES: usize = 64 << 20;

/// An aligned buffer of numbers for one call's in-buffer, in-place buffer or out-buffer
/// (host side), whose storage comes from and returns to a per-thread pool: a host calling
/// with the same large buffers again and again allocates (and page-faults) once, not per
/// call (a 32-bit glibc serves every allocation above 512 KiB with a fresh `mmap`).
pub struct Scratch<T: Element> {
    storage: Vec<u64>,
    /// Where the elements are: `storage`, or the shared bulk area (in place).
    ptr: *mut T,
    len: usize,
    _t: PhantomData<T>,
}

impl<T: Element> Scratch<T> {
    fn with_len(len: usize) -> Scratch<T> {
        debug_assert!(std::mem::align_of::<T>() <= 8);
        let words = (len * T::SIZE).div_ceil(8);
        let mut storage = POOL.with(|p| {
            let mut p = p.borrow_mut();
            // The smallest kept buffer that is large enough, else any (it grows).
            let best = (0..p.len()).filter(|i| p[*i].len() >= words).min_by_key(|i| p[*i].len());
            match best.or(if p.is_empty() { None } else { Some(0) }) {
                Some(i) => p.swap_remove(i),
                None => Vec::new(),
            }
        });
        if storage.len() < words {
            // Only growth is zeroed; kept bytes are overwritten by the caller.
            storage.resize(words, 0);
        }
        let ptr = storage.as_mut_ptr().cast::<T>();
        Scratch { storage, ptr, len, _t: PhantomData }
    }

    /// Elements in the shared bulk area, used in place.
    fn placed(ptr: *mut u8, len: usize) -> Scratch<T> {
        Scratch { storage: Vec::new(), ptr: ptr.cast::<T>(), len, _t: PhantomData }
    }

    /// A byte string read as numbers (as [`Reader::elements`]), into pooled storage.
    pub fn read(r: &mut Reader<'_>) -> Result<Scratch<T>, WireError> {
        let b = match r.bytes_placed()? {
            // In the bulk area, 8-aligned: the library works on it in place.
            Ok((p, n)) if n % T::SIZE == 0 && cfg!(target_endian = "little") && p as usize % 8 == 0 => {
                return Ok(Scratch::placed(p, n / T::SIZE));
            }
            // SAFETY: a reference the reader checked against the area (mapped for the call).
            // The client may still write it: the bytes are copied into the storage below and
            // decoded from the copy, never validated in place.
            Ok((p, n)) => unsafe { std::slice::from_raw_parts(p as *const u8, n) },
            Err(b) => b,
        };
        if b.len() % T::SIZE != 0 {
            return Err(WireError::Payload("a buffer is not a whole number of elements"));
        }
        let mut s = Scratch::with_len(b.len() / T::SIZE);
        if cfg!(target_endian = "little") {
            // SAFETY: the storage holds at least `b.len()` bytes, aligned for any Element.
            unsafe {
                std::ptr::copy_nonoverlapping(b.as_ptr(), s.storage.as_mut_ptr().cast::<u8>(), b.len())
            };
        } else {
            for (d, c) in s.iter_mut().zip(b.chunks_exact(T::SIZE)) {
                *d = T::from_le(c);
            }
        }
        Ok(s)
    }

    /// `len` zeros (an out-buffer: nothing from an earlier call can leak into a reply).
    pub fn zeroed(len: usize) -> Scratch<T> {
        let mut s = Scratch::with_len(len);
        s.iter_mut().for_each(|e| *e = T::default());
        s
    }

    /// `len` zeros, in the reply's bulk area when it has one and room (the library then
    /// writes the out-buffer where the client reads it), else as [`Scratch::zeroed`].
    pub fn zeroed_in(out: &mut Writer, len: usize) -> Scratch<T> {
        match out.bulk_alloc(len * T::SIZE) {
            Some(p) => {
                // SAFETY: a fresh placement of `len * SIZE` bytes, 8-aligned.
                unsafe { std::ptr::write_bytes(p, 0, len * T::SIZE) };
                Scratch::placed(p, len)
            }
            None => Scratch::zeroed(len),
        }
    }
}

impl<T: Element> std::ops::Deref for Scratch<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: `len` elements at `ptr`: in the storage (8-aligned, initialized words) or
        // in the bulk area, checked and alive for the call; every bit pattern is a number,
        // so what the other process may write there meanwhile is still a valid value (it is
        // the library's buffer: its contents are data, never trusted as lengths or offsets).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T: Element> std::ops::DerefMut for Scratch<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as above, borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl<T: Element> Drop for Scratch<T> {
    fn drop(&mut self) {
        let storage = std::mem::take(&mut self.storage);
        if storage.is_empty() || storage.len() * 8 > POOL_MAX_BYTES {
            return;
        }
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                if p.len() < POOL_BUFFERS {
                    p.push(storage);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        let mut b = [0u8; 4];
        set_bits(&mut b, 3, 5, 0b10110);
        set_bits(&mut b, 0, 3, 0b101);
        assert_eq!(b, [0b1011_0101, 0, 0, 0]);
        assert_eq!(get_bits(&b, 3, 5, false), 0b10110);
        assert_eq!(get_bits(&b, 3, 5, true) as i64, 0b10110 - 32);
        set_bits(&mut b, 6, 12, 0xfff);
        assert_eq!(get_bits(&b, 6, 12, false), 0xfff);
        assert_eq!(get_bits(&b, 0, 3, false), 0b101);
        assert_eq!(get_bits(&b, 20, 12, false), 0);
    }

    #[test]
    fn values_and_strings() {
        let mut w = Writer::new();
        w.values(&[[1i16, -2], [3, 4]]).values(&[true, false]);
        put_str(&mut w, Some("hé"));
        put_wide(&mut w, Some("hé"));
        put_str(&mut w, None);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        assert_eq!(r.values::<[i16; 2]>().unwrap(), [[1, -2], [3, 4]]);
        assert_eq!(r.values::<bool>().unwrap(), [true, false]);
        assert_eq!(get_str(&mut r).unwrap().as_deref(), Some("hé"));
        assert_eq!(get_wide(&mut r).unwrap().as_deref(), Some("hé"));
        assert_eq!(get_str(&mut r).unwrap(), None);
        r.finish().unwrap();

        // The host's side of the same bytes: C strings kept for the call.
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        assert_eq!(r.c_values::<[i16; 2]>(&mut keep).unwrap(), [[1, -2], [3, 4]]);
        assert_eq!(r.c_values::<u8>(&mut keep).unwrap(), [1, 0]);
        let s = keep.str(&mut r).unwrap();
        let u = keep.wide(&mut r).unwrap();
        assert!(keep.str(&mut r).unwrap().is_null());
        // SAFETY: NUL-terminated copies owned by `keep`.
        unsafe {
            assert_eq!(c_bytes(s), "hé".as_bytes());
            assert_eq!(c_units(u), [0x68, 0xe9]);
            let mut w = Writer::new();
            put_c_str(&mut w, s);
            put_c_wide(&mut w, u);
            put_c_str(&mut w, std::ptr::null());
            let back = w.payload().to_vec();
            let mut r = Reader::new(&back);
            assert_eq!(get_str(&mut r).unwrap().as_deref(), Some("hé"));
            assert_eq!(get_wide(&mut r).unwrap().as_deref(), Some("hé"));
            assert_eq!(get_str(&mut r).unwrap(), None);
        }
    }

    #[test]
    fn scratch_buffers_are_reused_and_out_buffers_start_at_zero() {
        let mut w = Writer::new();
        w.elements(&[1.5f64, 2.5, -1.0]).elements(&[7u16; 5]);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let a = Scratch::<f64>::read(&mut r).unwrap();
        assert_eq!(&a[..], [1.5, 2.5, -1.0]);
        let at = a.as_ptr() as usize;
        assert_eq!(at % 8, 0, "aligned");
        drop(a);
        let mut b = Scratch::<u16>::read(&mut r).unwrap();
        assert_eq!(&b[..], [7; 5]);
        assert_eq!(b.as_ptr() as usize, at, "the storage came back from the pool");
        b[0] = 9;
        drop(b);
        let z = Scratch::<u32>::zeroed(3);
        assert_eq!(&z[..], [0, 0, 0], "no bytes of the earlier buffer");
        assert!(Scratch::<u32>::read(&mut Reader::new(&[3, 0, 0, 0, 1, 2, 3])).is_err());
    }

    #[test]
    fn large_buffers_go_through_the_bulk_area_and_references_are_checked() {
        use crate::wire::Bulk;
        let mut area = vec![0u64; 1 << 14]; // 128 KiB, 8-aligned
        let base = area.as_mut_ptr().cast::<u8>();
        // SAFETY: `area` outlives every use below.
        let bulk = unsafe { Bulk::new(base, 1 << 17, 0) };
        let big: Vec<u32> = (0..10_000).collect();
        let mut w = Writer::new();
        w.attach_bulk(bulk);
        w.elements(&big).bytes(b"small stays inline");
        let used = w.detach_bulk().unwrap().used();
        assert_eq!(used, 40_000);
        assert!(w.payload().len() < 64, "only a reference in the frame");
        let frame = w.payload().to_vec();

        // The host reads in place, and its reply refers to the same bytes without a copy.
        let mut r = Reader::with_bulk(&frame, Some(bulk));
        let mut s = Scratch::<u32>::read(&mut r).unwrap();
        assert_eq!(s.as_ptr() as usize, base as usize, "in place");
        s[0] = 77;
        assert_eq!(r.bytes().unwrap(), b"small stays inline");
        let mut out = Writer::new();
        // SAFETY: as above.
        out.attach_bulk(unsafe { Bulk::new(base, 1 << 17, used) });
        let placed = Scratch::<u16>::zeroed_in(&mut out, 20_000);
        assert!(placed.as_ptr() as usize >= base as usize + used, "after the client's");
        out.elements(&s).elements(&placed);
        out.detach_bulk();
        let reply = out.payload().to_vec();
        let mut r = Reader::with_bulk(&reply, Some(bulk));
        let mut back = vec![0u32; 10_000];
        r.elements_into(&mut back).unwrap();
        assert_eq!(back[0], 77);
        assert_eq!(back[1..], big[1..]);
        assert_eq!(r.elements::<u16>().unwrap(), vec![0u16; 20_000]);

        // Without the area, or outside it, a reference is an error.
        assert!(Reader::new(&reply).bytes().is_err());
        let mut forged = Writer::new();
        forged.u32(1000 | 1 << 31).u32((1 << 17) - 10);
        let forged = forged.payload().to_vec();
        assert!(Reader::with_bulk(&forged, Some(bulk)).bytes().is_err());
        drop(area);
    }

    #[test]
    fn elements_come_back_into_the_callers_slice() {
        let mut w = Writer::new();
        w.elements(&[1.5f32, -2.0]).elements(&[1u16, 2, 3]).bytes(&[1, 2, 3]);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let mut dst = [0f32; 3];
        assert_eq!(r.elements_into(&mut dst).unwrap(), 2);
        assert_eq!(dst, [1.5, -2.0, 0.0]);
        let mut small = [9u16; 2];
        assert!(r.elements_into(&mut small).is_err(), "more than the slice holds");
        assert_eq!(small, [9, 9], "left as it was");
        let mut odd = [0u16; 4];
        assert!(r.elements_into(&mut odd).is_err(), "not whole elements");
    }

    #[test]
    fn absurd_counts_are_refused() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 1]);
        assert!(r.values::<u8>().is_err());
        // More values than the call made room for, though the payload holds them.
        let mut w = Writer::new();
        w.values(&[true, false, true]);
        let frame = w.payload().to_vec();
        let over = Reader::new(&frame).values_at_most::<bool>(2);
        assert!(matches!(over, Err(WireError::OverCapacity { len: 3, max: 2, .. })));
        assert_eq!(Reader::new(&frame).values_at_most::<bool>(3).unwrap(), [true, false, true]);
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 1]);
        assert!(r.c_values::<u64>(&mut Keep::default()).is_err());
    }

    #[test]
    fn conversions() {
        assert_eq!(fit::<u32>(5).unwrap(), 5);
        assert!(fit::<u8>(300).is_err());
        assert_eq!(length(Some(7)).unwrap(), 7);
        assert_eq!(filled(64u32, 64).unwrap(), 64);
        assert_eq!(filled(0i32, 64).unwrap(), 0);
        assert!(matches!(filled(65i64, 64), Err(WireError::Reported { count: 65, capacity: 64 })));
        assert!(matches!(filled(-1i32, 64), Err(WireError::Reported { count: -1, .. })));
        assert_eq!(out_elements(3, true, 4).unwrap(), 1, "3 bytes need one u32");
        assert_eq!(out_elements(9, true, 4).unwrap(), 3);
        assert_eq!(out_elements(5, false, 8).unwrap(), 5);
        assert!(out_elements((1 << 32) + 8, false, 1).is_err(), "over the limit, never truncated");
        assert!(out_elements(1 << 24, false, 8).is_err(), "the limit counts bytes");
        assert!(out_elements(u64::MAX, false, 16).is_err());
        assert!(length(Some(-1)).is_err() && length(None).is_err() && length(Some(1 << 70)).is_err());
        assert_eq!(with_nul(b"ab"), b"ab\0");
        assert_eq!(units_with_nul(&[0x41, 0, 0x42, 0]), [0x41, 0x42, 0]);
        let s = b"hello\0";
        // SAFETY: a NUL-terminated literal.
        assert_eq!(unsafe { c_bytes(s.as_ptr()) }, b"hello");
        let u = [0x68u16, 0x69, 0];
        // SAFETY: NUL-terminated units.
        assert_eq!(unsafe { c_units(u.as_ptr()) }, [0x68, 0x69]);
    }
}
