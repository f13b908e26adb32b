//! The wire contract of every marshaling kind, one file per kind with both halves in it:
//! what the client encodes and decodes, and what the host decodes, hands the library and
//! replies. Generated code calls these by full path, one call per kind per phase; no
//! template spells a wire format. Each kind's round trip (client encode → host decode →
//! host reply → client decode) is tested here, without a process.
//!
//! Written once and shared by the kinds: the presence flag of an optional argument
//! ([`optional`]), text in UTF-8 or UTF-16 ([`text`]), how buffer elements cross
//! ([`elements`]: numbers as one byte string, other values one by one), lengths and their
//! units ([`Units`], [`length`]), and the host's pooled buffers ([`scratch`]).
//!
//! | kind (model) | file |
//! |---|---|
//! | `value` (by value; also returns and callback arguments) | [`value`] |
//! | `in_string` | [`in_string`] |
//! | `in_buffer` | [`in_buffer`] |
//! | `out_buffer` | [`out_buffer`] |
//! | `inout_buffer` | [`inout_buffer`] |
//! | `in` / `out` / `inout` (one value behind a pointer) | [`in_value`], [`out_value`], [`inout_value`] |
//! | `handle` (also returned) / `out_handle` | [`handle`], [`out_handle`] |
//! | `callback` / `user_data` | [`callback`] |
//! | `length` / `out_length` | [`length`] |
//! | `inout_length` (a count read and written) | [`inout_length`] |
//! | a returned string | [`ret_string`] |
//! | a returned buffer the library owns | [`ret_buffer`] |
//! | the error rule of a function | [`error`] |
//! | struct fields (bit-fields) | [`bits`] |
//! | guards after outputs | [`guard`] |

pub mod bits;
pub mod callback;
pub mod descriptor;
pub mod elements;
pub mod error;
pub mod field;
pub mod fixed;
pub mod guard;
pub mod handle;
pub mod in_buffer;
pub mod in_string;
pub mod in_strings;
pub mod in_value;
pub mod inout_buffer;
pub mod inout_length;
pub mod inout_value;
pub mod length;
mod optional;
pub mod out_buffer;
pub mod out_handle;
pub mod out_string;
pub mod out_strings;
pub mod out_value;
pub mod resident;
pub mod ret_buffer;
pub mod ret_string;
pub mod retained;
pub mod scratch;
pub mod text;
pub mod union;
pub mod value;

pub use elements::{CBool, CElem, CStruct, Elem, Struct};
pub use scratch::Scratch;
pub use text::{Keep, Utf16, Utf8};
pub use value::{CValue, Value};

use crate::wire::WireError;
use std::cell::Cell;

/// What a buffer's length counts (the spec's `units`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// Elements.
    Elements,
    /// Bytes.
    Bytes,
}

/// The largest out-buffer a host allocates for one parameter.
pub const MAX_OUT_BUFFER: u64 = 64 << 20;

/// How many elements of `elem_size` bytes fit in [`MAX_OUT_BUFFER`] (the most any count
/// from the library may say).
pub(crate) fn max_elements(elem_size: u64) -> u64 {
    MAX_OUT_BUFFER / elem_size.max(1)
}

impl Units {
    /// The length of `n` elements of `elem_size` bytes, in these units (the client's value
    /// for a hidden length parameter).
    pub fn of(self, n: usize, elem_size: u64) -> u64 {
        let n = n as u64;
        match self {
            Units::Elements => n,
            Units::Bytes => n.saturating_mul(elem_size),
        }
    }

    /// The bytes a length in these units covers (saturating: compared with what was sent).
    pub fn bytes(self, len: u64, elem_size: u64) -> u64 {
        match self {
            Units::Elements => len.saturating_mul(elem_size),
            Units::Bytes => len,
        }
    }

    /// How many elements of `elem_size` bytes an out-buffer needs so the library can write
    /// `len` (rounded up when it counts bytes), refused above [`MAX_OUT_BUFFER`] bytes, so
    /// the allocation is never smaller than what the library may write. Both sides use it:
    /// the host to allocate, the client to bound the reply.
    pub fn elements_for(self, len: u64, elem_size: u64) -> Result<usize, WireError> {
        let elem_size = elem_size.max(1);
        let elements = match self {
            Units::Elements => len,
            Units::Bytes => len.div_ceil(elem_size),
        };
        elements
            .checked_mul(elem_size)
            .filter(|b| *b <= MAX_OUT_BUFFER)
            .and_then(|_| usize::try_from(elements).ok())
            .ok_or(WireError::Payload("an output buffer larger than 64 MiB"))
    }
}

/// A caller's `&mut` argument (or `Option<&mut>`) lent to both halves of a call on the
/// client: the encoder reads it, then the decoder writes the reply straight into it. They
/// run one after the other, never at once, and share the loan through one cell.
pub struct Lend<'a, T: ?Sized>(Cell<Option<&'a mut T>>);

impl<'a, T: ?Sized> Lend<'a, T> {
    /// Lends `v` (`None`: an optional argument not given).
    pub fn new(v: impl Into<Option<&'a mut T>>) -> Self {
        Lend(Cell::new(v.into()))
    }

    /// Runs `f` with the argument (`None` when it was not given).
    pub(crate) fn with<R>(&self, f: impl FnOnce(Option<&mut T>) -> R) -> R {
        let mut v = self.0.take();
        let r = f(v.as_deref_mut());
        self.0.set(v);
        r
    }
}

/// A struct as both generated sides would declare it, for the kinds' round-trip tests.
#[cfg(test)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct KxLike {
    pub a: i32,
    pub b: i32,
}

#[cfg(test)]
impl Value for KxLike {
    fn put(&self, w: &mut crate::wire::Writer) {
        self.a.put(w);
        self.b.put(w);
    }
    fn get(r: &mut crate::wire::Reader<'_>) -> Result<Self, WireError> {
        Ok(KxLike { a: Value::get(r)?, b: Value::get(r)? })
    }
}

#[cfg(test)]
impl Struct for KxLike {}

#[cfg(test)]
impl CValue for KxLike {
    fn get_c(r: &mut crate::wire::Reader<'_>, keep: &mut Keep) -> Result<Self, WireError> {
        Ok(KxLike { a: CValue::get_c(r, keep)?, b: CValue::get_c(r, keep)? })
    }
    fn put_c(&self, w: &mut crate::wire::Writer) {
        self.a.put_c(w);
        self.b.put_c(w);
    }
}

#[cfg(test)]
// SAFETY: two `i32`s.
unsafe impl CStruct for KxLike {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(Units::Bytes.of(3, 4), 12);
        assert_eq!(Units::Elements.of(3, 4), 3);
        assert_eq!(Units::Elements.bytes(3, 4), 12);
        assert_eq!(Units::Bytes.bytes(3, 4), 3);
        assert_eq!(Units::Elements.bytes(u64::MAX, 4), u64::MAX, "saturates");
        assert_eq!(Units::Bytes.elements_for(3, 4).unwrap(), 1, "3 bytes need one u32");
        assert_eq!(Units::Bytes.elements_for(9, 4).unwrap(), 3);
        assert_eq!(Units::Elements.elements_for(5, 8).unwrap(), 5);
        assert!(Units::Elements.elements_for((1 << 32) + 8, 1).is_err(), "over the limit, never truncated");
        assert!(Units::Elements.elements_for(1 << 24, 8).is_err(), "the limit counts bytes");
        assert!(Units::Elements.elements_for(u64::MAX, 16).is_err());
    }

    #[test]
    fn a_loan_is_read_then_written() {
        let mut x = [1, 2, 3];
        let lent = Lend::new(&mut x[..]);
        assert_eq!(lent.with(|v| v.map(|v| v.iter().sum::<i32>())), Some(6));
        lent.with(|v| v.into_iter().for_each(|v| v[0] = 9));
        assert_eq!(x, [9, 2, 3]);
        let none: Lend<'_, [i32]> = Lend::new(None);
        assert!(none.with(|v| v.is_none()));
    }
}
