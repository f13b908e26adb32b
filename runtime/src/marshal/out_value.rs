//! Kind `out`: a pointer to one value the library writes (`T *`). Nothing is sent; the
//! host passes the library zeroed storage (also when the pointer may be NULL: the client
//! always gets the value) and replies with what the library left there.

use super::{CValue, Value};
use crate::wire::{Reader, WireError, Writer};

/// Host: the storage the library writes (a pointer to it is the argument).
pub fn storage<T: CValue + Default>() -> T {
    T::default()
}

/// Host: replies with the value.
pub fn reply<T: CValue>(out: &mut Writer, v: &T) {
    v.put_c(out);
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
        let mut v: [i16; 3] = storage();
        assert_eq!(v, [0; 3]);
        v[1] = -4;
        let mut out = Writer::new();
        reply(&mut out, &v);
        reply(&mut out, &true);
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(decode::<[i16; 3]>(&mut r).unwrap(), [0, -4, 0]);
        assert!(decode::<bool>(&mut r).unwrap());
        r.finish().unwrap();
    }
}
