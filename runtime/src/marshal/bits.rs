//! Struct bit-fields: the host keeps them in byte regions of its mirror struct, in x86 order
//! (low bits first); the client sees each as an integer field.

/// Reads `width` bits starting `bit` bits into `bytes` (x86 order: low bits first),
/// sign-extended when `signed`.
pub fn get(bytes: &[u8], bit: u32, width: u32, signed: bool) -> u64 {
    let mut v = 0u64;
    for i in 0..width.min(64) {
        let at = bit + i;
        if bytes.get((at / 8) as usize).is_some_and(|b| b >> (at % 8) & 1 == 1) {
            v |= 1 << i;
        }
    }
    if signed && width > 0 && width < 64 && v >> (width - 1) & 1 == 1 {
        v |= u64::MAX << width;
    }
    v
}

/// Stores the low `width` bits of `v` starting `bit` bits into `bytes`; other bits are
/// kept.
pub fn set(bytes: &mut [u8], bit: u32, width: u32, v: u64) {
    for i in 0..width.min(64) {
        let at = bit + i;
        if let Some(b) = bytes.get_mut((at / 8) as usize) {
            let mask = 1u8 << (at % 8);
            if v >> i & 1 == 1 {
                *b |= mask;
            } else {
                *b &= !mask;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        let mut b = [0u8; 4];
        set(&mut b, 3, 5, 0b10110);
        set(&mut b, 0, 3, 0b101);
        assert_eq!(b, [0b1011_0101, 0, 0, 0]);
        assert_eq!(get(&b, 3, 5, false), 0b10110);
        assert_eq!(get(&b, 3, 5, true) as i64, 0b10110 - 32);
        set(&mut b, 6, 12, 0xfff);
        assert_eq!(get(&b, 6, 12, false), 0xfff);
        assert_eq!(get(&b, 0, 3, false), 0b101);
        assert_eq!(get(&b, 20, 12, false), 0);
    }
}
