//! How the elements of a buffer cross, written once for every buffer kind: numbers as one
//! byte string of little-endian values (placed in the shared bulk area when large), other
//! values (`bool`, structs) as a `u32` count and each value field by field. [`Elem`] is
//! the client's side, [`CElem`] the host's (with the storage the library gets).

use super::{CValue, Keep, Scratch, Value};
use crate::wire::{Reader, WireError, Writer};

/// A buffer element as the client holds it.
pub trait Elem: Sized {
    /// Whether an element may hold buffers or pointers of its own (a struct): then reading
    /// a buffer of them goes one level deeper.
    const NESTS: bool = false;
    /// Appends a slice of them.
    fn put_all(w: &mut Writer, v: &[Self]);
    /// Reads a slice of at most `max` (refused from the announced length, before anything
    /// is stored).
    fn get_at_most(r: &mut Reader<'_>, max: usize) -> Result<Vec<Self>, WireError>;
    /// Reads a slice straight into `dst` (an in-place buffer coming back); more than
    /// `dst.len()` is an error. Returns how many were written.
    fn get_into(r: &mut Reader<'_>, dst: &mut [Self]) -> Result<usize, WireError>;
}

/// A buffer element as the host gives it to the library.
pub trait CElem: Sized + Copy + Default {
    /// Whether an element may hold buffers or pointers of its own (a mirror struct).
    const NESTS: bool = false;
    /// Where a buffer of them lives for the call.
    type Store: std::ops::DerefMut<Target = [Self]>;
    /// Reads a slice written by [`Elem::put_all`].
    fn read(r: &mut Reader<'_>, keep: &mut Keep) -> Result<Self::Store, WireError>;
    /// `n` zeroed elements for the library to fill (in the reply's bulk area when it fits).
    fn zeroed(out: &mut Writer, n: usize) -> Self::Store;
    /// Appends a slice of them.
    fn put_all(w: &mut Writer, v: &[Self]);
    /// Whether this is the terminator of a NUL-terminated buffer (numbers: zero).
    fn is_nul(&self) -> bool {
        false
    }
}

/// A struct the generated client declares: its buffers cross value by value.
pub trait Struct: Value {}

/// A `#[repr(C)]` struct the generated host declares: its buffers cross value by value.
///
/// # Safety
/// Every bit pattern is a valid value (its fields are numbers, byte arrays, raw pointers
/// and such structs): guards after out-buffers are written over whole elements.
pub unsafe trait CStruct: CValue + Copy + Default {}

/// A count of values that follow, refused when the payload cannot hold that many (every
/// value takes at least one byte on the wire), so a bad count never allocates.
fn count(r: &mut Reader<'_>) -> Result<usize, WireError> {
    let n = r.u32()? as usize;
    if n > r.remaining() {
        return Err(WireError::Payload("more values than bytes"));
    }
    Ok(n)
}

fn put_values<T>(w: &mut Writer, v: &[T], put: impl Fn(&T, &mut Writer)) {
    w.u32(v.len() as u32);
    for e in v {
        put(e, w);
    }
}

fn values_at_most<T: Value>(r: &mut Reader<'_>, max: usize) -> Result<Vec<T>, WireError> {
    let n = count(r)?;
    if n > max {
        return Err(WireError::OverCapacity { len: n as u64, max: max as u64, unit: "values" });
    }
    (0..n).map(|_| T::get(r)).collect()
}

fn values_into<T: Value>(r: &mut Reader<'_>, dst: &mut [T]) -> Result<usize, WireError> {
    let n = count(r)?;
    if n > dst.len() {
        return Err(WireError::OverCapacity { len: n as u64, max: dst.len() as u64, unit: "values" });
    }
    for d in &mut dst[..n] {
        *d = T::get(r)?;
    }
    Ok(n)
}

impl<T: Struct> Elem for T {
    const NESTS: bool = true;
    fn put_all(w: &mut Writer, v: &[Self]) {
        put_values(w, v, T::put);
    }
    fn get_at_most(r: &mut Reader<'_>, max: usize) -> Result<Vec<Self>, WireError> {
        values_at_most(r, max)
    }
    fn get_into(r: &mut Reader<'_>, dst: &mut [Self]) -> Result<usize, WireError> {
        values_into(r, dst)
    }
}

impl Elem for bool {
    fn put_all(w: &mut Writer, v: &[Self]) {
        put_values(w, v, bool::put);
    }
    fn get_at_most(r: &mut Reader<'_>, max: usize) -> Result<Vec<Self>, WireError> {
        values_at_most(r, max)
    }
    fn get_into(r: &mut Reader<'_>, dst: &mut [Self]) -> Result<usize, WireError> {
        values_into(r, dst)
    }
}

impl<T: CStruct> CElem for T {
    const NESTS: bool = true;
    type Store = Vec<T>;
    fn read(r: &mut Reader<'_>, keep: &mut Keep) -> Result<Vec<T>, WireError> {
        let n = count(r)?;
        (0..n).map(|_| T::get_c(r, keep)).collect()
    }
    fn zeroed(_: &mut Writer, n: usize) -> Vec<T> {
        vec![T::default(); n]
    }
    fn put_all(w: &mut Writer, v: &[Self]) {
        put_values(w, v, T::put_c);
    }
}

/// A C `_Bool` in a buffer (one byte, 0 or 1 as the library wrote it): a buffer of them
/// crosses like the client's `[bool]`, value by value.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CBool(pub u8);

impl CValue for CBool {
    fn get_c(r: &mut Reader<'_>, _: &mut Keep) -> Result<Self, WireError> {
        r.u8().map(CBool)
    }
    fn put_c(&self, w: &mut Writer) {
        w.u8(self.0);
    }
}

// SAFETY: one byte; every value is a valid `CBool` (the library's byte, as it wrote it).
unsafe impl CStruct for CBool {}

macro_rules! numbers {
    ($($t:ident),*) => {$(
        impl Elem for $t {
            fn put_all(w: &mut Writer, v: &[Self]) {
                w.elements(v);
            }
            fn get_at_most(r: &mut Reader<'_>, max: usize) -> Result<Vec<Self>, WireError> {
                r.elements_at_most(max)
            }
            fn get_into(r: &mut Reader<'_>, dst: &mut [Self]) -> Result<usize, WireError> {
                r.elements_into(dst)
            }
        }
        impl CElem for $t {
            type Store = Scratch<$t>;
            fn read(r: &mut Reader<'_>, _: &mut Keep) -> Result<Scratch<$t>, WireError> {
                Scratch::read(r)
            }
            fn zeroed(out: &mut Writer, n: usize) -> Scratch<$t> {
                Scratch::zeroed_in(out, n)
            }
            fn put_all(w: &mut Writer, v: &[Self]) {
                w.elements(v);
            }
            fn is_nul(&self) -> bool {
                *self == 0 as $t
            }
        }
    )*};
}
numbers!(i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_values_cross_each_their_way() {
        let mut w = Writer::new();
        Elem::put_all(&mut w, &[1u16, 2, 3]);
        Elem::put_all(&mut w, &[true, false]);
        assert_eq!(&w.payload()[..10], [6, 0, 0, 0, 1, 0, 2, 0, 3, 0], "numbers: one byte string");
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        assert_eq!(&u16::read(&mut r, &mut keep).unwrap()[..], [1, 2, 3]);
        assert_eq!(CBool::read(&mut r, &mut keep).unwrap(), [CBool(1), CBool(0)]);
        r.finish().unwrap();

        let mut out = Writer::new();
        CElem::put_all(&mut out, &[CBool(1), CBool(1), CBool(0)]);
        CElem::put_all(&mut out, &[4u16, 5]);
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        let mut dst = [false; 4];
        assert_eq!(bool::get_into(&mut r, &mut dst).unwrap(), 3);
        assert_eq!(dst, [true, true, false, false]);
        assert_eq!(u16::get_at_most(&mut r, 2).unwrap(), [4, 5]);
        // More than the caller made room for is refused, whatever the payload holds.
        let mut r = Reader::new(&back);
        assert!(matches!(bool::get_at_most(&mut r, 2), Err(WireError::OverCapacity { len: 3, max: 2, .. })));
        let mut small = [false; 2];
        assert!(bool::get_into(&mut Reader::new(&back), &mut small).is_err());
        assert_eq!(small, [false, false], "left as it was");
        // An absurd count never allocates.
        assert!(bool::get_at_most(&mut Reader::new(&[0xff, 0xff, 0xff, 0xff, 1]), usize::MAX).is_err());
        assert!(CBool::read(&mut Reader::new(&[0xff, 0xff, 0xff, 0xff, 1]), &mut keep).is_err());
        assert!(0u32.is_nul() && !7u32.is_nul() && !CBool(0).is_nul());
    }
}
