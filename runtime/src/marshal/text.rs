//! Text, written once for every kind that carries it (string arguments, returned strings,
//! string fields, callback arguments, NUL-terminated out-buffers): UTF-8 crosses as its
//! bytes, UTF-16 as little-endian units, both as one byte string; the host adds the NUL
//! the library expects. Where text may be NULL it is preceded by a presence flag.

use crate::wire::{Element, Reader, WireError, Writer};

/// An encoding of C text: its code unit, how the client writes and reads a `str` in it.
pub trait Text {
    /// `u8` or `u16`.
    type Unit: Element + PartialEq;
    /// Writes `s` (client).
    fn put(w: &mut Writer, s: &str);
    /// Reads text written by [`Text::put`] or [`Text::put_c`]; invalid sequences are
    /// replaced.
    fn get(r: &mut Reader<'_>) -> Result<String, WireError>;
    /// Reads text as the host passes it on: a NUL-terminated copy.
    fn get_c(r: &mut Reader<'_>) -> Result<Vec<Self::Unit>, WireError> {
        let mut v: Vec<Self::Unit> = r.elements()?;
        v.push(Self::Unit::default());
        Ok(v)
    }
    /// Keeps a copy made by [`Text::get_c`] alive in `keep`.
    fn keep(keep: &mut Keep, v: Vec<Self::Unit>) -> *const Self::Unit;
}

/// UTF-8 (`char *`).
pub enum Utf8 {}

/// UTF-16 (`wchar_t *` on Windows, `char16_t *`).
pub enum Utf16 {}

impl Text for Utf8 {
    type Unit = u8;
    fn put(w: &mut Writer, s: &str) {
        w.bytes(s.as_bytes());
    }
    fn get(r: &mut Reader<'_>) -> Result<String, WireError> {
        r.string()
    }
    fn keep(keep: &mut Keep, v: Vec<u8>) -> *const u8 {
        let p = v.as_ptr();
        // The heap block does not move when `bytes` grows: `p` stays valid.
        keep.bytes.push(v);
        p
    }
}

impl Text for Utf16 {
    type Unit = u16;
    fn put(w: &mut Writer, s: &str) {
        w.elements(&s.encode_utf16().collect::<Vec<u16>>());
    }
    fn get(r: &mut Reader<'_>) -> Result<String, WireError> {
        Ok(String::from_utf16_lossy(&r.elements::<u16>()?))
    }
    fn keep(keep: &mut Keep, v: Vec<u16>) -> *const u16 {
        let p = v.as_ptr();
        keep.units.push(v);
        p
    }
}

/// The units of a NUL-terminated C string (without the NUL).
///
/// # Safety
/// `p` points to a NUL-terminated string that outlives the result.
pub unsafe fn c_units<'a, U: Element + PartialEq>(p: *const U) -> &'a [U] {
    let mut n = 0;
    // SAFETY: the caller promises a NUL within the string, so every unit read up to it is
    // inside it, and the units before it stay valid as long as the result.
    unsafe {
        while *p.add(n) != U::default() {
            n += 1;
        }
        std::slice::from_raw_parts(p, n)
    }
}

/// Writes a C string the library gave (host): presence flag, then the text; NULL is
/// absent.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string in `E`.
pub unsafe fn put_c<E: Text>(w: &mut Writer, p: *const E::Unit) {
    // SAFETY: not NULL, so a NUL-terminated string (the caller's promise).
    put_units(w, (!p.is_null()).then(|| unsafe { c_units(p) }));
}

/// Writes text the host holds as units (a copy taken from the library): presence flag,
/// then the units; what [`get`] reads.
pub fn put_units<U: Element>(w: &mut Writer, units: Option<&[U]>) {
    super::optional::put(w, units, true, |w, u| {
        w.elements(u);
    });
}

/// Writes an array of `n` C strings the library passed (host: a callback's `char **argv`
/// with its `argc`): the count, then each as [`put_c`] (NULL elements are absent). A NULL
/// array, or a negative count, is empty.
///
/// # Safety
/// `p` is NULL or points to `n` pointers, each NULL or to a NUL-terminated string in `E`.
pub unsafe fn put_c_array<E: Text>(w: &mut Writer, p: *const *const E::Unit, n: i64) {
    let n = if p.is_null() { 0 } else { u32::try_from(n).unwrap_or(0) };
    w.u32(n);
    for i in 0..n as usize {
        // SAFETY: the caller's promise: `n` string pointers at `p`.
        unsafe { put_c::<E>(w, *p.add(i)) };
    }
}

/// Reads what [`put_c_array`] wrote. Each element takes at least its presence byte, so a
/// count the payload cannot hold is refused before anything is allocated.
pub fn get_array<E: Text>(r: &mut Reader<'_>) -> Result<Vec<Option<String>>, WireError> {
    (0..array_len(r)?).map(|_| get::<E>(r)).collect()
}

/// An array of strings' count, refused when the payload cannot hold that many (each string
/// takes at least one byte), before anything is allocated for them.
pub fn array_len(r: &mut Reader<'_>) -> Result<usize, WireError> {
    let n = r.u32()? as usize;
    if n > r.remaining() {
        return Err(WireError::Payload("an array of strings longer than its payload"));
    }
    Ok(n)
}

/// Writes text that may be absent (client): presence flag, then the text.
pub fn put<E: Text>(w: &mut Writer, s: Option<&str>) {
    super::optional::put(w, s, true, E::put);
}

/// Reads what [`put`] or [`put_c`] wrote.
pub fn get<E: Text>(r: &mut Reader<'_>) -> Result<Option<String>, WireError> {
    super::optional::get(r, true, E::get)
}

/// Reads what [`put`] wrote as a NUL-terminated copy kept in `keep` (host: a string field
/// of a struct the library reads), or NULL.
pub fn get_kept<E: Text>(r: &mut Reader<'_>, keep: &mut Keep) -> Result<*const E::Unit, WireError> {
    Ok(match super::optional::get(r, true, E::get_c)? {
        Some(v) => E::keep(keep, v),
        None => std::ptr::null(),
    })
}

/// The text a client value holds: `String` (always present) or `Option<String>`.
pub trait TextValue: Sized {
    /// The text, if any.
    fn text(&self) -> Option<&str>;
    /// From text that may be absent (`String`: absent is empty).
    fn from_text(t: Option<String>) -> Self;
}

impl TextValue for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
    fn from_text(t: Option<String>) -> Self {
        t.unwrap_or_default()
    }
}

impl TextValue for Option<String> {
    fn text(&self) -> Option<&str> {
        self.as_deref()
    }
    fn from_text(t: Option<String>) -> Self {
        t
    }
}

/// Writes a client text value (a struct's string field).
pub fn put_value<E: Text>(w: &mut Writer, v: &impl TextValue) {
    put::<E>(w, v.text());
}

/// Reads a client text value (a struct's string field, a returned string).
pub fn get_value<E: Text, T: TextValue>(r: &mut Reader<'_>) -> Result<T, WireError> {
    get::<E>(r).map(T::from_text)
}

/// Text as a closure argument: `&str` (NULL is empty) or `Option<&str>`.
pub trait TextArg<'a> {
    /// From text that may be absent.
    fn from_text(t: &'a Option<String>) -> Self;
}

impl<'a> TextArg<'a> for &'a str {
    fn from_text(t: &'a Option<String>) -> Self {
        t.as_deref().unwrap_or("")
    }
}

impl<'a> TextArg<'a> for Option<&'a str> {
    fn from_text(t: &'a Option<String>) -> Self {
        t.as_deref()
    }
}

/// What the host made for one call's struct fields (C strings, the elements and values
/// pointer fields point to): alive until the call returns.
#[derive(Default)]
pub struct Keep {
    bytes: Vec<Vec<u8>>,
    units: Vec<Vec<u16>>,
    /// Element stores and boxed values: their heap blocks do not move when they do.
    others: Vec<Box<dyn std::any::Any>>,
    /// The elements of the flexible array member just read (their address and bytes),
    /// until the struct they end is laid out.
    flexible: Option<(*const u8, usize)>,
    /// Out-buffer fields this call's structs point to (address, elements), registered for
    /// reading them back (see `field::out_capacity`); forgotten when the call ends.
    pub(crate) out_fields: Vec<usize>,
}

impl Drop for Keep {
    fn drop(&mut self) {
        super::field::forget_out_fields(&self.out_fields);
    }
}

impl std::fmt::Debug for Keep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keep")
            .field("strings", &(self.bytes.len() + self.units.len()))
            .field("others", &self.others.len())
            .finish()
    }
}

impl Keep {
    /// Keeps `v` alive until the call returns; what it points to stays where it is.
    pub(crate) fn hold<T: 'static>(&mut self, v: T) {
        self.others.push(Box::new(v));
    }

    /// Records the elements of a flexible array member just read.
    pub(crate) fn set_flexible(&mut self, p: *const u8, bytes: usize) {
        self.flexible = Some((p, bytes));
    }

    /// The elements of the flexible array member read last, once.
    pub(crate) fn take_flexible(&mut self) -> Option<(*const u8, usize)> {
        self.flexible.take()
    }
}

#[cfg(test)]
mod array_tests {
    use super::*;

    #[test]
    fn string_arrays_round_trip_with_null_elements() {
        let (a, b) = (c"id".as_ptr().cast::<u8>(), c"\u{e9}t\u{e9}".as_ptr().cast::<u8>());
        let argv = [a, std::ptr::null(), b];
        let mut w = Writer::new();
        // SAFETY: three pointers, NULL or NUL-terminated; then a NULL array.
        unsafe {
            put_c_array::<Utf8>(&mut w, argv.as_ptr(), 3);
            put_c_array::<Utf8>(&mut w, std::ptr::null(), 5);
            put_c_array::<Utf8>(&mut w, argv.as_ptr(), -1);
        }
        let bytes = w.payload().to_vec();
        let mut r = Reader::new(&bytes);
        assert_eq!(get_array::<Utf8>(&mut r).unwrap(), [Some("id".into()), None, Some("été".into())]);
        assert!(get_array::<Utf8>(&mut r).unwrap().is_empty());
        assert!(get_array::<Utf8>(&mut r).unwrap().is_empty());
        r.finish().unwrap();
        // A count the payload cannot hold.
        let mut w = Writer::new();
        w.u32(1_000_000);
        let bytes = w.payload().to_vec();
        assert!(get_array::<Utf8>(&mut Reader::new(&bytes)).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_in_both_encodings() {
        let mut w = Writer::new();
        put::<Utf8>(&mut w, Some("hé"));
        put::<Utf16>(&mut w, Some("hé"));
        put::<Utf8>(&mut w, None);
        put_value::<Utf16>(&mut w, &String::from("x"));
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        assert_eq!(get::<Utf8>(&mut r).unwrap().as_deref(), Some("hé"));
        assert_eq!(get::<Utf16>(&mut r).unwrap().as_deref(), Some("hé"));
        assert_eq!(get::<Utf8>(&mut r).unwrap(), None);
        assert_eq!(get_value::<Utf16, String>(&mut r).unwrap(), "x");
        r.finish().unwrap();

        // The host's side of the same bytes: C strings kept for the call, and back.
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        let s = get_kept::<Utf8>(&mut r, &mut keep).unwrap();
        let u = get_kept::<Utf16>(&mut r, &mut keep).unwrap();
        assert!(get_kept::<Utf8>(&mut r, &mut keep).unwrap().is_null());
        // SAFETY: NUL-terminated copies owned by `keep`.
        unsafe {
            assert_eq!(c_units(s), "hé".as_bytes());
            assert_eq!(c_units(u), [0x68, 0xe9]);
            let mut w = Writer::new();
            put_c::<Utf8>(&mut w, s);
            put_c::<Utf16>(&mut w, u);
            put_c::<Utf8>(&mut w, std::ptr::null());
            let back = w.payload().to_vec();
            let mut r = Reader::new(&back);
            assert_eq!(get_value::<Utf8, String>(&mut r).unwrap(), "hé");
            assert_eq!(get_value::<Utf16, Option<String>>(&mut r).unwrap().as_deref(), Some("hé"));
            assert_eq!(get_value::<Utf8, String>(&mut r).unwrap(), "", "NULL as a String is empty");
        }
        let absent = None;
        assert_eq!(<&str as TextArg>::from_text(&absent), "");
        assert_eq!(<Option<&str> as TextArg>::from_text(&absent), None);
    }
}
