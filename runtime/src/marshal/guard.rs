//! Guards after what the library writes: every out-buffer and every value written through
//! a pointer is followed by [`GUARD`] bytes of a known pattern, checked after the call. A
//! library that wrote past what the spec gave it (an `out` that is really an array, a
//! capacity in the wrong units) fails the call with an error naming the parameter, instead
//! of a result that looks right over corrupted memory.

use crate::wire::WireError;

/// Bytes of guard after each output.
pub const GUARD: usize = 64;

/// The guard's byte at `i` (not a constant, so a library filling memory with one value
/// still changes it).
fn pattern(i: usize) -> u8 {
    (i as u8).wrapping_mul(0x3b) ^ 0xa5
}

/// Fills a guard.
pub(crate) fn fill(bytes: &mut [u8]) {
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = pattern(i);
    }
}

/// Checks a guard: an error naming `what` (the function and parameter) when the library
/// wrote into it.
pub(crate) fn check(bytes: &[u8], what: &'static str, given: usize) -> Result<(), WireError> {
    match bytes.iter().enumerate().all(|(i, b)| *b == pattern(i)) {
        true => Ok(()),
        false => Err(WireError::Overrun { what, given: given as u64 }),
    }
}

/// One value with a guard after it (`out` and `inout` parameters).
#[repr(C)]
pub struct Guarded<T> {
    /// The value the library gets a pointer to.
    pub value: T,
    guard: [u8; GUARD],
}

impl<T> Guarded<T> {
    /// `value`, guarded.
    pub fn new(value: T) -> Guarded<T> {
        let mut guard = [0; GUARD];
        fill(&mut guard);
        Guarded { value, guard }
    }

    /// Checks the guard after the call.
    pub fn check(&self, what: &'static str) -> Result<&T, WireError> {
        check(&self.guard, what, std::mem::size_of::<T>())?;
        Ok(&self.value)
    }
}

impl<T> std::ops::Deref for Guarded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_past_the_value_is_caught() {
        let mut g = Guarded::new(5u32);
        assert_eq!(*g.check("`f` parameter `p`").unwrap(), 5);
        let p: *mut u32 = &mut g.value;
        // SAFETY: the guard is part of the same allocation, right after the value (repr(C));
        // this is the overrun a library would do.
        unsafe { *p.add(1) = 0 };
        let e = g.check("`f` parameter `p`").unwrap_err();
        assert!(e.to_string().contains("wrote past the end of `f` parameter `p` (4 bytes given)"), "{e}");
    }
}
