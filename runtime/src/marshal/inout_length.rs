//! Kind `inout_length`: a pointer to a count the library reads and writes (`uLongf
//! *destLen`). The client sends the buffer's length (as for [`super::length`]); the host
//! passes the library a pointer to it as the C type and keeps the count as sent. After the
//! call the library's count is, for an out-buffer, how much it filled (checked there by
//! [`super::out_buffer::Filled`]); for an in-buffer, how much it consumed, which the host
//! checks against what was sent and returns, and the client checks again.

use super::length;
use crate::wire::{Reader, WireError, Writer};

/// Host: reads the count: the value behind the pointer, and the count as sent.
pub fn decode<T: TryFrom<u64>>(r: &mut Reader<'_>) -> Result<(T, u64), WireError> {
    let given = r.u64()?;
    Ok((length::fit(given)?, given))
}

/// Host: replies with the count the library left, refused when it is negative or more
/// than was sent (never clamped into a plausible-looking result).
pub fn reply<T: TryInto<i128>>(out: &mut Writer, left: T, given: u64) -> Result<(), WireError> {
    let count = left.try_into().unwrap_or(i128::MAX);
    match u64::try_from(count).ok().filter(|n| *n <= given) {
        Some(n) => {
            out.u64(n);
            Ok(())
        }
        None => Err(WireError::Reported { count, capacity: given }),
    }
}

/// Client: reads the count back; more than it sent is refused.
pub fn decode_reply(r: &mut Reader<'_>, sent: u64) -> Result<usize, WireError> {
    let n = r.u64()?;
    if n > sent {
        return Err(WireError::OverCapacity { len: n, max: sent, unit: "elements" });
    }
    usize::try_from(n).map_err(|_| WireError::Payload("a count larger than this machine's memory"))
}

#[cfg(test)]
mod tests {
    use super::super::Units;
    use super::*;

    #[test]
    fn round_trip() {
        let src = [1u8, 2, 3, 4, 5];
        let mut w = Writer::new();
        length::encode(&mut w, length::of(&&src[..], Units::Elements, 1));
        length::encode(&mut w, length::of(&64usize, Units::Bytes, 2));
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let (mut consumed, given): (u32, u64) = decode(&mut r).unwrap();
        let (capacity, cap_given): (u16, u64) = decode(&mut r).unwrap();
        r.finish().unwrap();
        assert_eq!((consumed, given, capacity, cap_given), (5, 5, 128, 128));
        // The library consumed 3 of the 5.
        let p: *mut u32 = &mut consumed;
        // SAFETY: a pointer to the local just above.
        unsafe { *p = 3 };
        let mut out = Writer::new();
        reply(&mut out, consumed, given).unwrap();
        let back = out.payload().to_vec();
        assert_eq!(decode_reply(&mut Reader::new(&back), 5).unwrap(), 3);
        // A count above what was sent is refused by the host, and by the client.
        assert!(matches!(
            reply(&mut Writer::new(), 6u32, 5),
            Err(WireError::Reported { count: 6, capacity: 5 })
        ));
        assert!(reply(&mut Writer::new(), -1i32, 5).is_err());
        assert!(decode_reply(&mut Reader::new(&back), 2).is_err());
        assert!(decode::<u8>(&mut Reader::new(&300u64.to_le_bytes())).is_err(), "does not fit the C type");
    }
}
