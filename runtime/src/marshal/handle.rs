//! Kind `handle`: an opaque library pointer, which crosses as the id the host's handle
//! table gave it ([`crate::host::handles`]; 0 is NULL). Also returned handles and handle fields
//! of structs. The host refuses an id it never gave out (or 0 unless optional), and
//! forgets the id after the call of the function that closes it.

use crate::host::handles;
use crate::wire::{Reader, WireError, Writer};
use std::ffi::c_void;

/// A generated client's handle type: a newtype over the host's id.
pub trait ClientHandle: Copy {
    /// The id.
    fn id(self) -> u64;
    /// From an id the host gave.
    fn from_id(id: u64) -> Self;
}

/// What a client holds for a handle: the handle, or `Option` of it where NULL is allowed.
pub trait HandleValue: Sized {
    /// The id (0: none).
    fn id(&self) -> u64;
    /// From an id (0 is `None` for an `Option`).
    fn from_id(id: u64) -> Self;
}

impl<H: ClientHandle> HandleValue for H {
    fn id(&self) -> u64 {
        ClientHandle::id(*self)
    }
    fn from_id(id: u64) -> Self {
        <H as ClientHandle>::from_id(id)
    }
}

impl<H: ClientHandle> HandleValue for Option<H> {
    fn id(&self) -> u64 {
        self.map_or(0, ClientHandle::id)
    }
    fn from_id(id: u64) -> Self {
        (id != 0).then(|| H::from_id(id))
    }
}

/// Client: writes a handle argument or field.
pub fn encode(w: &mut Writer, h: &impl HandleValue) {
    w.u64(h.id());
}

/// Client: reads a returned handle or a handle field.
pub fn decode<H: HandleValue>(r: &mut Reader<'_>) -> Result<H, WireError> {
    Ok(H::from_id(r.u64()?))
}

/// A handle argument on the host: the library's pointer and the client's id.
pub struct HostHandle {
    ptr: *mut c_void,
    id: u64,
}

/// Host: reads a handle argument of type `kind` (its index in the model's handle types);
/// `closes`: the function closes it, so a borrowed handle is refused.
pub fn decode_c(
    r: &mut Reader<'_>,
    kind: u32,
    optional: bool,
    closes: bool,
) -> Result<HostHandle, WireError> {
    let id = r.u64()?;
    let ptr = if closes {
        handles::to_close(kind, id, optional)?
    } else {
        handles::from_client(kind, id, optional)?
    };
    Ok(HostHandle { ptr, id })
}

/// Client: writes an array of handles (`HANDLE *lpHandles`).
pub fn encode_all<H: ClientHandle>(w: &mut Writer, hs: &[H]) {
    w.u32(hs.len() as u32);
    for h in hs {
        w.u64(h.id());
    }
}

/// Host: reads an array of handles of type `kind`: the pointers the library gets (each
/// open, none NULL).
pub fn decode_all(r: &mut Reader<'_>, kind: u32) -> Result<Vec<*mut c_void>, WireError> {
    let n = r.u32()? as usize;
    if n.saturating_mul(8) > r.remaining() {
        return Err(WireError::Payload("more handles than bytes"));
    }
    (0..n).map(|_| handles::from_client(kind, r.u64()?, false)).collect()
}

/// Host: writes the `n` handles at `p` the library passes a callback, as ids (the same
/// object keeps the id the client holds). NULL with a count, a negative count, or more
/// than the payload limit crosses as a count the client refuses.
///
/// Each is lent for the callback's duration (keep the result until it returned).
///
/// # Safety
/// `p` is NULL or points to `n` handles.
pub unsafe fn put_all_c(out: &mut Writer, kind: u32, p: *const *mut c_void, n: i64) -> Vec<handles::Lent> {
    let most = super::max_elements(8) as i64;
    match (p.is_null(), n) {
        (_, 0) => {
            out.u32(0);
            Vec::new()
        }
        (false, 1..) if n <= most => {
            out.u32(n as u32);
            // SAFETY: the caller's promise.
            let all = unsafe { std::slice::from_raw_parts(p, n as usize) };
            all.iter().map(|h| lend_c(out, kind, *h)).collect()
        }
        _ => {
            out.u32(u32::MAX);
            Vec::new()
        }
    }
}

/// Client: reads the handles [`put_all_c`] wrote.
pub fn decode_all_ids<H: ClientHandle>(r: &mut Reader<'_>) -> Result<Vec<H>, WireError> {
    let n = r.u32()?;
    if n == u32::MAX {
        return Err(WireError::Payload(
            "the library passed NULL, or an impossible count, for an array of handles",
        ));
    }
    if (n as usize).saturating_mul(8) > r.remaining() {
        return Err(WireError::Payload("more handles than bytes"));
    }
    (0..n).map(|_| r.u64().map(H::from_id)).collect()
}

/// Host: the id the client sent for a handle argument.
pub fn id(h: &HostHandle) -> u64 {
    h.id
}

/// Host: refuses a count the library will be told that is more than the handles sent.
pub fn check_all(v: &[*mut c_void], len: u64) -> Result<(), WireError> {
    if len <= v.len() as u64 {
        Ok(())
    } else {
        Err(WireError::Payload("an array of handles is shorter than its count"))
    }
}

/// Host: what the library gets.
pub fn ptr(h: &HostHandle) -> *mut c_void {
    h.ptr
}

/// Host: right after the call (before its error rule); `closes`: this function closed the
/// handle (even if it reports an error), whose id is forgotten.
pub fn after_call(h: &HostHandle, kind: u32, closes: bool) {
    if closes {
        handles::closed(kind, h.id);
    }
}

/// Host: reads a handle field of a struct the library reads.
pub fn get_field(r: &mut Reader<'_>, kind: u32, optional: bool) -> Result<*mut c_void, WireError> {
    handles::from_client(kind, r.u64()?, optional)
}

/// Host: writes a handle the library gave (returned, stored through a `T **`, or in a
/// struct field), as its id.
pub fn put_c(out: &mut Writer, kind: u32, p: *mut c_void) {
    out.u64(handles::to_client(kind, p));
}

/// Host: writes a handle the library passes a callback, lent for the callback's duration
/// (keep the result until the callback returned; see [`handles::Lent`]).
pub fn lend_c(out: &mut Writer, kind: u32, p: *mut c_void) -> handles::Lent {
    let lent = handles::lend(kind, p);
    out.u64(lent.id());
    lent
}

/// Host: writes a handle the library returned but keeps owning (`returns: { borrowed: true }`).
pub fn put_borrowed(out: &mut Writer, kind: u32, p: *mut c_void) {
    out.u64(handles::to_client_borrowed(kind, p));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Dev(u64);
    impl ClientHandle for Dev {
        fn id(self) -> u64 {
            self.0
        }
        fn from_id(id: u64) -> Self {
            Dev(id)
        }
    }

    #[test]
    fn round_trip() {
        // The library hands out a pointer; the client gets an id and sends it back.
        let mut thing = 5u8;
        let p = std::ptr::from_mut(&mut thing).cast::<c_void>();
        let kind = 900;
        let mut out = Writer::new();
        put_c(&mut out, kind, p);
        put_c(&mut out, kind, std::ptr::null_mut());
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        let dev: Dev = decode(&mut r).unwrap();
        let none: Option<Dev> = decode(&mut r).unwrap();
        assert_eq!(none, None);
        let mut w = Writer::new();
        encode(&mut w, &dev);
        encode(&mut w, &None::<Dev>);
        encode(&mut w, &dev);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let h = decode_c(&mut r, kind, false, false).unwrap();
        assert_eq!(ptr(&h), p);
        assert!(ptr(&decode_c(&mut r, kind, true, false).unwrap()).is_null());
        after_call(&h, kind, true);
        assert!(decode_c(&mut r, kind, false, false).is_err(), "closed: the id is forgotten");
        assert!(
            decode_c(&mut Reader::new(&[0; 8]), kind, false, false).is_err(),
            "NULL where it is required"
        );
        assert!(
            decode_c(&mut Reader::new(&[77, 0, 0, 0, 0, 0, 0, 0]), kind, false, false).is_err(),
            "never given"
        );
    }

    #[test]
    fn arrays_of_handles() {
        let mut a = 1u8;
        let mut b = 2u8;
        let kind = 902;
        let (pa, pb) =
            (std::ptr::from_mut(&mut a).cast::<c_void>(), std::ptr::from_mut(&mut b).cast::<c_void>());
        let mut out = Writer::new();
        put_c(&mut out, kind, pa);
        put_c(&mut out, kind, pb);
        let ids = out.payload().to_vec();
        let mut r = Reader::new(&ids);
        let (da, db): (Dev, Dev) = (decode(&mut r).unwrap(), decode(&mut r).unwrap());
        let mut w = Writer::new();
        encode_all(&mut w, &[db, da, db]);
        encode_all::<Dev>(&mut w, &[]);
        encode_all(&mut w, &[Dev(12345)]);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        assert_eq!(decode_all(&mut r, kind).unwrap(), [pb, pa, pb]);
        assert!(decode_all(&mut r, kind).unwrap().is_empty());
        assert!(decode_all(&mut r, kind).is_err(), "a handle never given");
        let two = [pa, pb];
        assert!(check_all(&two, 2).is_ok() && check_all(&two, 0).is_ok());
        assert!(check_all(&two, 3).is_err(), "a count past the handles sent");
        let mut w = Writer::new();
        w.u32(1 << 30);
        assert!(decode_all(&mut Reader::new(w.payload()), kind).is_err(), "a count the payload cannot hold");
    }

    #[test]
    fn arrays_of_handles_for_callbacks() {
        let mut x = 5u8;
        let kind = 903;
        let px = std::ptr::from_mut(&mut x).cast::<c_void>();
        let arr = [px, px];
        let mut out = Writer::new();
        // SAFETY: two handles; NULL with none; NULL with a count.
        unsafe {
            put_all_c(&mut out, kind, arr.as_ptr(), 2);
            put_all_c(&mut out, kind, std::ptr::null(), 0);
            put_all_c(&mut out, kind, std::ptr::null(), 3);
        }
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        let got: Vec<Dev> = decode_all_ids(&mut r).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], got[1], "the same object, the same id");
        assert!(decode_all_ids::<Dev>(&mut r).unwrap().is_empty());
        assert!(decode_all_ids::<Dev>(&mut r).is_err(), "NULL with a count");
    }
}
