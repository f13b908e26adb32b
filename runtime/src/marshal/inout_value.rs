//! Kind `inout`: a pointer to one value the library reads and writes (`T *`). The client
//! lends its `&mut` ([`Lend`]): it sends the value, with a presence flag when optional,
//! and the reply is written back into it. The host passes a pointer to its decoded copy
//! (NULL when absent) and replies with what the library left there.

use super::guard::Guarded;
use super::{optional, CValue, Keep, Lend, Value};
use crate::wire::{Reader, WireError, Writer};

/// Client: lends the argument (`&mut T`, or `Option<&mut T>` when optional).
pub fn lend<'a, T>(v: impl Into<Option<&'a mut T>>) -> Lend<'a, T> {
    Lend::new(v)
}

/// Client: writes the argument.
pub fn encode<T: Value>(w: &mut Writer, v: &Lend<'_, T>, optional: bool) {
    v.with(|v| optional::put(w, v, optional, |w, v| v.put(w)));
}

/// Client: writes the value that came back into the argument.
pub fn decode<T: Value>(r: &mut Reader<'_>, v: &Lend<'_, T>, optional: bool) -> Result<(), WireError> {
    let Some(back) = optional::get(r, optional, T::get)? else {
        return Ok(());
    };
    v.with(|v| match v {
        Some(dst) => {
            *dst = back;
            Ok(())
        }
        None => Err(WireError::Payload("a value back for one not given")),
    })
}

/// Host: reads the argument (`None`: absent), guarded ([`super::guard`]).
pub fn decode_c<T: CValue>(
    r: &mut Reader<'_>,
    keep: &mut Keep,
    optional: bool,
) -> Result<Option<Guarded<T>>, WireError> {
    optional::get(r, optional, |r| T::get_c(r, keep).map(Guarded::new))
}

/// Host: what the library gets.
pub fn ptr<T>(v: &mut Option<Guarded<T>>) -> *mut T {
    v.as_mut().map_or(std::ptr::null_mut(), |v| &mut v.value as *mut T)
}

/// Host: replies with the value the library left; a library that wrote past it (`what`:
/// the function and parameter) fails the call.
pub fn reply<T: CValue>(
    out: &mut Writer,
    v: &Option<Guarded<T>>,
    optional: bool,
    what: &'static str,
) -> Result<(), WireError> {
    let v = v.as_ref().map(|v| v.check(what)).transpose()?;
    optional::put(out, v, optional, |w, v| v.put_c(w));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let (mut a, mut b) = (5i32, 2.5f32);
        let (la, lb, lc) = (lend(&mut a), lend(Some(&mut b)), lend::<u8>(None));
        let mut w = Writer::new();
        encode(&mut w, &la, false);
        encode(&mut w, &lb, true);
        encode(&mut w, &lc, true);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        let mut ha = decode_c::<i32>(&mut r, &mut keep, false).unwrap();
        let mut hb = decode_c::<f32>(&mut r, &mut keep, true).unwrap();
        let mut hc = decode_c::<u8>(&mut r, &mut keep, true).unwrap();
        r.finish().unwrap();
        // SAFETY: pointers to the values just decoded (the library's writes).
        unsafe {
            *ptr(&mut ha) += 1;
            *ptr(&mut hb) *= 2.0;
        }
        assert!(ptr(&mut hc).is_null());
        let mut out = Writer::new();
        reply(&mut out, &ha, false, "a").unwrap();
        reply(&mut out, &hb, true, "b").unwrap();
        reply(&mut out, &hc, true, "c").unwrap();
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        decode(&mut r, &la, false).unwrap();
        decode(&mut r, &lb, true).unwrap();
        decode(&mut r, &lc, true).unwrap();
        r.finish().unwrap();
        assert_eq!((a, b), (6, 5.0));
        // A value back for an argument not given is a protocol error.
        let lent = lend::<u8>(None);
        assert!(decode(&mut Reader::new(&[1, 9]), &lent, true).is_err());
    }
}
