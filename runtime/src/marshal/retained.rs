//! Kind `out_buffer` with `retain`: a buffer the library goes on writing after the call
//! returns (an asynchronous transfer completed by a callback, overlapped I/O). It lives in
//! the host (`host::retained`); the call returns a [`Retained`] token for it instead of
//! its contents, and reading it back is explicit ([`crate::Client::read_retained`]): the
//! host refuses while the library holds it, so a half-written buffer is never read.
//! Dropping the token frees the buffer (once the library let go of it too).

use super::resident::Freed;
use super::{Elem, Units};
use crate::wire::{Reader, WireError};
use std::marker::PhantomData;
use std::sync::Arc;

/// A buffer of `T` the library keeps (see the module): its host id and its length.
#[derive(Debug)]
pub struct Retained<T> {
    id: u64,
    len: usize,
    freed: Option<Arc<Freed>>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Retained<T> {
    /// The host's id for it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Its length in elements, as the call gave it to the library.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Lets go of it without telling the host (it freed the buffer).
    pub(crate) fn forget(mut self) {
        self.freed = None;
    }
}

impl<T> Drop for Retained<T> {
    fn drop(&mut self) {
        if let Some(freed) = &self.freed {
            freed.push(self.id);
        }
    }
}

/// Client: reads the id the host kept the buffer under; `len` in `units` is the capacity
/// the call gave it (what a read may return at most).
pub fn decode<T: Elem>(
    r: &mut Reader<'_>,
    len: u64,
    units: Units,
    elem_size: u64,
    freed: &Arc<Freed>,
) -> Result<Retained<T>, WireError> {
    token(r, units.elements_for(len, elem_size)?, freed)
}

/// Client: reads the id the host kept a value under (an `inout` argument with `retain`).
pub fn decode_value<T: super::Value>(
    r: &mut Reader<'_>,
    freed: &Arc<Freed>,
) -> Result<Retained<T>, WireError> {
    token(r, 1, freed)
}

/// The token for the id that comes next, of `len` elements.
fn token<T>(r: &mut Reader<'_>, len: usize, freed: &Arc<Freed>) -> Result<Retained<T>, WireError> {
    let id = r.u64()?;
    if id == 0 {
        return Err(WireError::Payload("a retained buffer or value with no id"));
    }
    Ok(Retained { id, len, freed: Some(freed.clone()), _t: PhantomData })
}

/// Client: reads a kept value.
pub(crate) fn value<T: super::Value>(mut r: Reader<'_>) -> Result<T, WireError> {
    let v = T::get(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// Client: reads a retained buffer's contents, at most its length.
pub(crate) fn contents<T: Elem>(mut r: Reader<'_>, v: &Retained<T>) -> Result<Vec<T>, WireError> {
    let got = T::get_at_most(&mut r, v.len)?;
    r.finish()?;
    if got.len() != v.len {
        return Err(WireError::Payload("a retained buffer read back at another length"));
    }
    Ok(got)
}
