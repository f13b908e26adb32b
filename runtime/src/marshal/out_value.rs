//! Kind `out`: a pointer to one value the library writes (`T *`). Nothing is sent; the
//! host passes the library zeroed storage (also when the pointer may be NULL: the client
//! always gets the value), followed by a guard ([`super::guard`]), and replies with what the
//! library left there once the guard is found intact.

use super::guard::Guarded;
use super::{CValue, Value};
use crate::wire::{Reader, WireError, Writer};

/// Host: the storage the library writes.
pub fn storage<T: CValue + Default>() -> Guarded<T> {
    Guarded::new(T::default())
}

/// Host: what the library gets.
pub fn ptr<T>(v: &mut Guarded<T>) -> *mut T {
    &mut v.value
}

/// Host: replies with the value; a library that wrote past it (`what`: the function and
/// parameter) fails the call.
pub fn reply<T: CValue>(out: &mut Writer, v: &Guarded<T>, what: &'static str) -> Result<(), WireError> {
    v.check(what)?.put_c(out);
    Ok(())
}

/// Client: reads the value.
pub fn decode<T: Value>(r: &mut Reader<'_>) -> Result<T, WireError> {
    T::get(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut v: Guarded<[i16; 3]> = storage();
        assert_eq!(v.value, [0; 3]);
        // SAFETY: the library's write, within the value.
        unsafe { (*ptr(&mut v))[1] = -4 };
        let mut out = Writer::new();
        reply(&mut out, &v, "v").unwrap();
        reply(&mut out, &Guarded::new(true), "b").unwrap();
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(decode::<[i16; 3]>(&mut r).unwrap(), [0, -4, 0]);
        assert!(decode::<bool>(&mut r).unwrap());
        r.finish().unwrap();
        // Written past: the call fails, naming the parameter.
        let mut one: Guarded<u8> = storage();
        // SAFETY: the guard follows the value in the same allocation.
        unsafe { *ptr(&mut one).add(3) = 1 };
        assert!(matches!(
            reply(&mut Writer::new(), &one, "p"),
            Err(WireError::Overrun { what: "p", given: 1 })
        ));
    }
}
