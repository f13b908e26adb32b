//! Kind `value`: a scalar or a struct passed by value, and what every other kind builds on
//! for one value: [`Value`] (the client's types) and [`CValue`] (the host's C types) each
//! write and read one value field by field. Also returned values and the arguments and
//! results of callbacks. `bool` crosses as one byte; `()` (a `void` result) as nothing.

use super::Keep;
use crate::wire::{Reader, WireError, Writer};

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

impl CValue for bool {
    fn get_c(r: &mut Reader<'_>, _: &mut Keep) -> Result<Self, WireError> {
        Ok(r.u8()? != 0)
    }
    fn put_c(&self, w: &mut Writer) {
        w.u8(u8::from(*self));
    }
}

impl Value for () {
    fn put(&self, _: &mut Writer) {}
    fn get(_: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(())
    }
}

impl CValue for () {
    fn get_c(_: &mut Reader<'_>, _: &mut Keep) -> Result<Self, WireError> {
        Ok(())
    }
    fn put_c(&self, _: &mut Writer) {}
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

/// Client: writes an argument (or a callback's result).
pub fn encode<T: Value>(w: &mut Writer, v: &T) {
    v.put(w);
}

/// Client: reads a result (or a callback's argument).
pub fn decode<T: Value>(r: &mut Reader<'_>) -> Result<T, WireError> {
    T::get(r)
}

/// Host: reads an argument (or a callback's result) as the library takes it.
pub fn decode_c<T: CValue>(r: &mut Reader<'_>, keep: &mut Keep) -> Result<T, WireError> {
    T::get_c(r, keep)
}

/// Host: writes what the library returned (or a callback's argument).
pub fn reply<T: CValue>(out: &mut Writer, v: &T) {
    v.put_c(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let mut w = Writer::new();
        encode(&mut w, &-5i32);
        encode(&mut w, &true);
        encode(&mut w, &[1.5f64, -2.0]);
        encode(&mut w, &());
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        let (a, b, c): (i32, bool, [f64; 2]) = (
            decode_c(&mut r, &mut keep).unwrap(),
            decode_c(&mut r, &mut keep).unwrap(),
            decode_c(&mut r, &mut keep).unwrap(),
        );
        decode_c::<()>(&mut r, &mut keep).unwrap();
        r.finish().unwrap();
        assert_eq!((a, b, c), (-5, true, [1.5, -2.0]));
        let mut out = Writer::new();
        reply(&mut out, &(a * 2));
        reply(&mut out, &!b);
        reply(&mut out, &c);
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(decode::<i32>(&mut r).unwrap(), -10);
        assert!(!decode::<bool>(&mut r).unwrap());
        assert_eq!(decode::<[f64; 2]>(&mut r).unwrap(), [1.5, -2.0]);
        r.finish().unwrap();
        assert!(decode::<u64>(&mut Reader::new(&[1, 2])).is_err(), "short");
    }
}
