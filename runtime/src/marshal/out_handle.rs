//! Kind `out_handle`: a `T **` the library stores a handle through. Nothing is sent; the
//! host passes a pointer to NULL and replies with the handle's id ([`super::handle`]).

use super::handle::{self, HandleValue};
use crate::wire::{Reader, WireError, Writer};
use std::ffi::c_void;

/// Host: the storage the library writes the handle to (a pointer to it is the argument).
pub fn storage() -> *mut c_void {
    std::ptr::null_mut()
}

/// Host: replies with the handle the library stored, as its id.
pub fn reply(out: &mut Writer, kind: u32, p: *mut c_void) {
    handle::put_c(out, kind, p);
}

/// Client: reads the handle.
pub fn decode<H: HandleValue>(r: &mut Reader<'_>) -> Result<H, WireError> {
    handle::decode(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut thing = 1u32;
        let mut slot = storage();
        assert!(slot.is_null());
        slot = std::ptr::from_mut(&mut thing).cast();
        let mut out = Writer::new();
        reply(&mut out, 901, slot);
        let back = out.payload().to_vec();
        let id: Option<u64> = {
            let mut r = Reader::new(&back);
            let id = r.u64().unwrap();
            (id != 0).then_some(id)
        };
        assert!(id.is_some());
        let mut w = Writer::new();
        w.u64(id.unwrap_or_default());
        let frame = w.payload().to_vec();
        let h = handle::decode_c(&mut Reader::new(&frame), 901, false, false).unwrap();
        assert_eq!(handle::ptr(&h), slot);
    }
}
