//! The presence flag of an optional argument, written once for every kind: an optional
//! argument is preceded by one byte (1 present, 0 absent, nothing else follows); a
//! required one has no flag. Both sides are told the same `optional` from the model.

use crate::wire::{Reader, WireError, Writer};

/// Writes `v` with `put`, preceded by its flag when `optional`. A required argument is
/// always present (its Rust type is not an `Option`).
pub(crate) fn put<T>(w: &mut Writer, v: Option<T>, optional: bool, put: impl FnOnce(&mut Writer, T)) {
    if optional {
        w.u8(u8::from(v.is_some()));
    }
    if let Some(v) = v {
        put(w, v);
    }
}

/// Reads what [`put`] wrote: `None` when the flag says absent.
pub(crate) fn get<T>(
    r: &mut Reader<'_>,
    optional: bool,
    get: impl FnOnce(&mut Reader<'_>) -> Result<T, WireError>,
) -> Result<Option<T>, WireError> {
    if optional && r.u8()? == 0 {
        return Ok(None);
    }
    get(r).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let mut w = Writer::new();
        put(&mut w, Some(7u32), true, |w, v| {
            w.u32(v);
        });
        put(&mut w, None::<u32>, true, |w, v| {
            w.u32(v);
        });
        put(&mut w, Some(9u32), false, |w, v| {
            w.u32(v);
        });
        assert_eq!(w.payload(), [1, 7, 0, 0, 0, 0, 9, 0, 0, 0]);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        assert_eq!(get(&mut r, true, |r| r.u32()).unwrap(), Some(7));
        assert_eq!(get(&mut r, true, |r| r.u32()).unwrap(), None);
        assert_eq!(get(&mut r, false, |r| r.u32()).unwrap(), Some(9));
        r.finish().unwrap();
    }
}
