//! Kind `inout_buffer`: a buffer the library reads and writes in place. The client lends
//! its `&mut [T]` ([`Lend`]): it sends the slice, with a presence flag when optional, and
//! the reply is decoded straight into it (at most its length). The host checks the length
//! as for an in-buffer, passes a pointer to its storage (in place in the bulk area when
//! large), and replies with the whole buffer.

use super::in_buffer::{covers, Buffer};
use super::{optional, CElem, Elem, Keep, Lend, Units};
use crate::wire::{Reader, WireError, Writer};
use std::ops::{Deref, DerefMut};

/// Client: lends the argument (`&mut [T]`, or `Option<&mut [T]>` when optional).
pub fn lend<'a, T>(v: impl Into<Option<&'a mut [T]>>) -> Lend<'a, [T]> {
    Lend::new(v)
}

/// Client: writes the argument.
pub fn encode<T: Elem>(w: &mut Writer, v: &Lend<'_, [T]>, optional: bool) {
    v.with(|v| optional::put(w, v, optional, |w, v| T::put_all(w, v)));
}

/// Client: reads what came back into the argument.
pub fn decode<T: Elem>(r: &mut Reader<'_>, v: &Lend<'_, [T]>, optional: bool) -> Result<(), WireError> {
    let back = |r: &mut Reader<'_>| {
        v.with(|v| match v {
            Some(dst) => T::get_into(r, dst).map(drop),
            None => Err(WireError::Payload("a buffer back for one not given")),
        })
    };
    optional::get(r, optional, back).map(drop)
}

/// Host: reads the argument.
pub fn decode_c<T: CElem>(
    r: &mut Reader<'_>,
    keep: &mut Keep,
    optional: bool,
) -> Result<Buffer<T>, WireError> {
    super::in_buffer::decode::<T>(r, keep, optional)
}

/// Host: refuses a buffer shorter than its length, before the call.
pub fn check<S: Deref<Target = [T]>, T>(
    v: &Option<S>,
    len: u64,
    units: Units,
    elem_size: u64,
) -> Result<(), WireError> {
    covers(v, len, units, elem_size, "a buffer is shorter than its length")
}

/// Host: what the library gets.
pub fn ptr<S: DerefMut<Target = [T]>, T>(v: &mut Option<S>) -> *mut T {
    v.as_mut().map_or(std::ptr::null_mut(), |v| v.as_mut_ptr())
}

/// Host: replies with the buffer as the library left it.
pub fn reply<S: Deref<Target = [T]>, T: CElem>(out: &mut Writer, v: &Option<S>, optional: bool) {
    optional::put(out, v.as_ref(), optional, |w, v| T::put_all(w, v));
}

#[cfg(test)]
mod tests {
    use super::super::{CBool, KxLike};
    use super::*;

    #[test]
    fn round_trip() {
        let mut nums = [1i32, 2, 3];
        let mut flags = [true, false];
        let mut pts = [KxLike { a: 1, b: 2 }];
        let (ln, lf, lp, la) =
            (lend(&mut nums[..]), lend(Some(&mut flags[..])), lend(&mut pts[..]), lend::<u8>(None));
        let mut w = Writer::new();
        encode(&mut w, &ln, false);
        encode(&mut w, &lf, true);
        encode(&mut w, &lp, false);
        encode(&mut w, &la, true);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        let mut hn = decode_c::<i32>(&mut r, &mut keep, false).unwrap();
        let mut hf = decode_c::<CBool>(&mut r, &mut keep, true).unwrap();
        let mut hp = decode_c::<KxLike>(&mut r, &mut keep, false).unwrap();
        let mut ha = decode_c::<u8>(&mut r, &mut keep, true).unwrap();
        r.finish().unwrap();
        assert!(check(&hn, 3, Units::Elements, 4).is_ok() && check(&hn, 13, Units::Bytes, 4).is_err());
        // SAFETY: the library's writes, within the buffers' lengths.
        unsafe {
            *ptr(&mut hn).add(2) = 30;
            *ptr(&mut hf).add(1) = CBool(1);
            (*ptr(&mut hp)).b = 20;
        }
        assert!(ptr(&mut ha).is_null());
        let mut out = Writer::new();
        reply(&mut out, &hn, false);
        reply(&mut out, &hf, true);
        reply(&mut out, &hp, false);
        reply(&mut out, &ha, true);
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        decode(&mut r, &ln, false).unwrap();
        decode(&mut r, &lf, true).unwrap();
        decode(&mut r, &lp, false).unwrap();
        decode(&mut r, &la, true).unwrap();
        r.finish().unwrap();
        assert_eq!((nums, flags, pts), ([1, 2, 30], [true, true], [KxLike { a: 1, b: 20 }]));
        // A reply longer than the caller's slice is refused.
        let mut two = [0i32; 2];
        let lent = lend(&mut two[..]);
        assert!(decode(&mut Reader::new(&back), &lent, false).is_err());
    }
}
