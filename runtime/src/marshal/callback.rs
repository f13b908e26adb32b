//! Kinds `callback` and `user_data`: a function pointer the library calls during the call
//! it was passed to, and the context pointer that goes with it. Only the presence of an
//! optional callback is sent; the host passes its trampoline (or NULL), and the trampoline
//! sends the callback's arguments to the client ([`crate::host::callback`]), whose closure
//! runs and replies with the result. Arguments and results cross as [`super::value`] and
//! [`super::text`] do. The context pointer is the host's (trampolines do not need it).
//! A callback kept past the call (a scope other than the call) crosses as the id of the
//! client's registration of its closure instead (see `crate::client::kept` and
//! `crate::host::kept`), and its context pointer is that registration's host record.

use super::optional;
use crate::wire::{Reader, WireError, Writer};
use std::ffi::c_void;

/// What the client passes for a callback: `&mut F`, or `Option<&mut F>` when optional.
pub trait Closure<F: ?Sized> {
    /// Whether it was given.
    fn given(&self) -> bool;
    /// The closure, if given.
    fn closure(&mut self) -> Option<&mut F>;
}

impl<F: ?Sized> Closure<F> for &mut F {
    fn given(&self) -> bool {
        true
    }
    fn closure(&mut self) -> Option<&mut F> {
        Some(&mut **self)
    }
}

impl<F: ?Sized> Closure<F> for Option<&mut F> {
    fn given(&self) -> bool {
        self.is_some()
    }
    fn closure(&mut self) -> Option<&mut F> {
        self.as_deref_mut()
    }
}

/// Client: whether the callback argument was given (worked out before the call: the
/// closure itself is lent to the call's callback handler).
pub fn given<F: ?Sized>(c: &impl Closure<F>) -> bool {
    c.given()
}

/// Client: writes the argument (the presence of an optional callback; nothing otherwise).
pub fn encode(w: &mut Writer, given: bool, optional: bool) {
    optional::put(w, given.then_some(()), optional, |_, ()| {});
}

/// Client: the closure the library is calling (one it was not given is a protocol error).
pub fn closure<F: ?Sized>(c: &mut impl Closure<F>) -> Result<&mut F, WireError> {
    c.closure().ok_or(WireError::Payload("a callback that was not given"))
}

/// Host: reads the argument: whether the callback was given.
pub fn decode(r: &mut Reader<'_>, optional: bool) -> Result<bool, WireError> {
    Ok(optional::get(r, optional, |_| Ok(()))?.is_some())
}

/// Client: a callback the library keeps past the call: the registration its closure is in
/// (0: not given). All the kept callbacks of one call share one registration.
pub fn encode_kept(w: &mut Writer, registration: u32) {
    w.u32(registration);
}

/// Host: reads a kept callback's registration (0: not given).
pub fn decode_kept(r: &mut Reader<'_>) -> Result<u32, WireError> {
    r.u32()
}

/// A buffer a closure handed the library: its address and length in bytes, and its storage.
type Provided = (usize, usize, Box<dyn std::any::Any>);

thread_local! {
    /// The buffers closures handed the library through `provide` arguments, by (the call
    /// running on this thread, slot): each kept until the same callback runs again in the
    /// same call, or the call ends (a call nested in a callback has its own).
    static PROVIDED: std::cell::RefCell<std::collections::HashMap<(usize, u32), Provided>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Host: reads the buffer a closure hands the library (`T **` argument `pp`, slot `slot`),
/// keeps it (see `PROVIDED`), and points `*pp` at it. The callback's result `count` must
/// not exceed what it holds.
///
/// # Safety
/// `pp` is NULL or the library's pointer to a `*const T` the callback sets.
pub unsafe fn provide<T: super::CElem + 'static>(
    r: &mut Reader<'_>,
    slot: u32,
    pp: *mut *const T,
    count: i128,
) -> Result<(), WireError> {
    let mut keep = super::Keep::default();
    let (p, n) = super::field::get_elems_c::<T>(r, &mut keep, true)?;
    if !(0..=i128::from(n)).contains(&count) {
        return Err(WireError::Reported { count, capacity: n });
    }
    if pp.is_null() {
        return Err(WireError::Payload("the library passed NULL for the buffer a callback hands it"));
    }
    let bytes = n as usize * std::mem::size_of::<T>();
    let key = (crate::host::call_key(), slot);
    let kept = PROVIDED.try_with(|m| m.borrow_mut().insert(key, (p as usize, bytes, Box::new(keep)))).is_ok();
    if !kept {
        return Err(WireError::Payload("the thread is ending"));
    }
    // SAFETY: the caller's promise; not NULL (checked above). What it points to is kept.
    unsafe { pp.write(p) };
    Ok(())
}

/// Host: whether `len` bytes at `p` lie inside a buffer a closure handed the library during
/// the call running on this thread.
pub fn provided_contains(p: usize, len: usize) -> bool {
    let call = crate::host::call_key();
    PROVIDED
        .try_with(|m| {
            m.borrow().iter().any(|(&(c, _), &(start, bytes, _))| {
                c == call && p >= start && p.checked_add(len).is_some_and(|end| end <= start + bytes)
            })
        })
        .unwrap_or(false)
}

/// Host: drops the buffers closures handed the library during the call `call` (it ended).
pub(crate) fn release_provided(call: usize) {
    let _ = PROVIDED.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            if !m.is_empty() {
                m.retain(|&(c, _), _| c != call);
            }
        }
    });
}

/// Client: the callback handler of a function that takes no callbacks.
pub fn none(_: u32, _: Reader<'_>, _: &mut Writer) -> Result<(), WireError> {
    Err(WireError::Payload("this library has no callbacks"))
}

/// What the library gets as a callback's context pointer.
static USER_DATA: u8 = 0;

/// Host: the context pointer for a `user_data` parameter.
pub fn user_data() -> *mut c_void {
    std::ptr::addr_of!(USER_DATA) as *mut c_void
}

#[cfg(test)]
mod tests {
    use super::super::text::{self, TextArg, Utf8};
    use super::super::value;
    use super::*;

    type Fire<'a> = dyn FnMut(i32, &str) -> i32 + 'a;

    #[test]
    fn round_trip() {
        let mut seen = Vec::new();
        let mut f = |n: i32, s: &str| {
            seen.push(format!("{s}{n}"));
            n * 2
        };
        let mut given: &mut Fire<'_> = &mut f;
        let mut absent: Option<&mut Fire<'_>> = None;
        let mut w = Writer::new();
        encode(&mut w, super::given(&given), false);
        encode(&mut w, super::given(&absent), true);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let (a, b) = (decode(&mut r, false).unwrap(), decode(&mut r, true).unwrap());
        r.finish().unwrap();
        assert!(a && !b);
        assert!(!user_data().is_null());

        // The trampoline's arguments, the closure run on the client, its result back.
        let mut args = Writer::new();
        value::reply(&mut args, &21i32);
        // SAFETY: a NUL-terminated literal.
        unsafe { text::put_c::<Utf8>(&mut args, c"n=".as_ptr().cast()) };
        let sent = args.payload().to_vec();
        let mut r = Reader::new(&sent);
        let n: i32 = value::decode(&mut r).unwrap();
        let s = text::get::<Utf8>(&mut r).unwrap();
        r.finish().unwrap();
        let ret = closure(&mut given).unwrap()(n, TextArg::from_text(&s));
        let mut reply = Writer::new();
        value::encode(&mut reply, &ret);
        let back = reply.payload().to_vec();
        let mut keep = super::super::Keep::default();
        assert_eq!(value::decode_c::<i32>(&mut Reader::new(&back), &mut keep).unwrap(), 42);
        assert!(closure(&mut absent).is_err());

        assert_eq!(seen, ["n=21"]);
    }
}
