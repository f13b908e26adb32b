//! Tagged unions: a struct's union field whose member a sibling field selects. It crosses
//! as the index of the case (`u32::MAX`: a tag no case names, with the tag and the union's
//! bytes), then the member's value. The host writes the member at the start of the union's
//! bytes and sets the tag; reading back, it picks the case from the tag.

use crate::wire::WireError;

/// The index that stands for "a tag no case names".
pub const OTHER: u32 = u32::MAX;

/// Host: the tag field's value, refused when its type cannot hold it.
pub fn tag<C: TryFrom<i64>>(v: i64) -> Result<C, WireError> {
    C::try_from(v).map_err(|_| WireError::Payload("a union tag its field cannot hold"))
}

/// Host: the union's bytes holding `v` at their start (the rest zero).
///
/// # Safety
/// `T` is a number, a raw pointer or a mirror struct: plain bytes.
pub unsafe fn write<T: Copy, const N: usize>(region: &mut [u8; N], v: T) {
    assert!(std::mem::size_of::<T>() <= N, "a union member larger than the union");
    *region = [0; N];
    // SAFETY: `N` bytes, at least `T`'s; unaligned writes are allowed.
    unsafe { std::ptr::write_unaligned(region.as_mut_ptr().cast::<T>(), v) };
}

/// Host: the member of type `T` at the start of the union's bytes.
///
/// # Safety
/// `T` is a number, a raw pointer or a mirror struct: every bit pattern is a valid value.
pub unsafe fn read<T: Copy, const N: usize>(region: &[u8; N]) -> T {
    assert!(std::mem::size_of::<T>() <= N, "a union member larger than the union");
    // SAFETY: `N` bytes, at least `T`'s, any bits valid (the caller's promise).
    unsafe { std::ptr::read_unaligned(region.as_ptr().cast::<T>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_at_the_start_of_the_bytes() {
        let mut region = [0xffu8; 8];
        // SAFETY: numbers.
        unsafe {
            write(&mut region, 7i32);
            assert_eq!(region, [7, 0, 0, 0, 0, 0, 0, 0], "the rest zeroed");
            assert_eq!(read::<i32, 8>(&region), 7);
            write(&mut region, 2.5f64);
            assert_eq!(read::<f64, 8>(&region), 2.5);
        }
        assert_eq!(tag::<u8>(3).unwrap(), 3);
        assert!(tag::<u8>(300).is_err());
        assert!(tag::<u32>(-1).is_err());
    }
}
