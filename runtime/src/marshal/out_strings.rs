//! An array of strings the library allocates and points a `char ***` at
//! (`sqlite3_get_table`'s `pazResult`), its length an expression over the call's
//! out-values (`(*pnRow + 1) * *pnColumn`). Nothing is sent; the host passes a pointer to
//! NULL, copies the strings right after the call, frees the library's array with the spec's
//! function (`sqlite3_free_table`), and replies with a presence flag and the strings (NULL
//! elements absent, as [`super::text::put_c_array`] writes them); the client gets an
//! `Option<Vec<Option<String>>>`.

use super::text::{self, Text};
use crate::wire::{Reader, WireError, Writer};
use std::ffi::c_void;

/// The host's copy of the array: absent (NULL), else each string's units (NULL: absent).
pub type Copied<U> = Option<Vec<Option<Vec<U>>>>;

/// Host: the storage the library writes the array's address to.
pub fn storage() -> *mut c_void {
    std::ptr::null_mut()
}

/// Host: a copy of the `n` strings at `p`, taken before the array is freed; NULL is absent.
/// A count whose pointers alone would exceed [`super::MAX_OUT_BUFFER`] is refused.
///
/// # Safety
/// `p` is NULL or points to `n` pointers, each NULL or to a NUL-terminated string in `E`.
pub unsafe fn take<E: Text>(p: *mut c_void, n: u64) -> Result<Copied<E::Unit>, WireError> {
    if p.is_null() {
        return Ok(None);
    }
    let most = super::max_elements(std::mem::size_of::<*const c_void>() as u64);
    let n = usize::try_from(n)
        .ok()
        .filter(|n| *n as u64 <= most)
        .ok_or(WireError::Reported { count: i128::from(n), capacity: most })?;
    let array = p as *const *const E::Unit;
    Ok(Some(
        (0..n)
            .map(|i| {
                // SAFETY: the caller's promise: `n` string pointers at `p`.
                let s = unsafe { *array.add(i) };
                // SAFETY: each NULL (not read) or a NUL-terminated string.
                (!s.is_null()).then(|| unsafe { text::c_units::<E::Unit>(s) }.to_vec())
            })
            .collect(),
    ))
}

/// Host: replies with the copy.
pub fn reply<E: Text>(out: &mut Writer, copy: &Copied<E::Unit>) {
    super::optional::put(out, copy.as_ref(), true, |w, strings| {
        w.u32(strings.len() as u32);
        for s in strings {
            text::put_units(w, s.as_deref());
        }
    });
}

/// Client: reads what [`reply`] wrote.
pub fn decode<E: Text>(r: &mut Reader<'_>) -> Result<Option<Vec<Option<String>>>, WireError> {
    super::optional::get(r, true, text::get_array::<E>)
}

#[cfg(test)]
mod tests {
    use super::super::text::Utf8;
    use super::*;

    #[test]
    fn round_trip() {
        let (a, b) = (c"name".as_ptr().cast::<u8>(), c"x".as_ptr().cast::<u8>());
        let table = [a, std::ptr::null(), b, b];
        let mut out = Writer::new();
        // SAFETY: four pointers, NULL or NUL-terminated; then a NULL array.
        let (copy, none) = unsafe {
            (take::<Utf8>(table.as_ptr() as *mut c_void, 4).unwrap(), take::<Utf8>(storage(), 9).unwrap())
        };
        reply::<Utf8>(&mut out, &copy);
        reply::<Utf8>(&mut out, &none);
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        let x = |s: &str| Some(s.to_string());
        assert_eq!(decode::<Utf8>(&mut r).unwrap(), Some(vec![x("name"), None, x("x"), x("x")]));
        assert_eq!(decode::<Utf8>(&mut r).unwrap(), None);
        r.finish().unwrap();
    }
}
