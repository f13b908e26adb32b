//! A function's error rule: when the library's return value means failure, the host
//! replies `LibraryError` with one `i64` code (the return value, `errno` or
//! `GetLastError()`, as the spec says) instead of the results; the client's call returns
//! `Error::Library(code)`. The code is followed by the raw return value and both `errno`
//! and `GetLastError()`, which the proxy library hands its C caller unchanged
//! ([`crate::client::library_failure`]).

use crate::wire::{Status, Writer};

/// The failure condition on the return value.
#[derive(Debug, Clone, Copy)]
pub enum Rule<'a> {
    /// `< 0`.
    Negative,
    /// `== 0` (false, NULL).
    Zero,
    /// `!= 0`.
    Nonzero,
    /// NULL.
    Null,
    /// Not one of these (compared as `i64`).
    Not(&'a [i64]),
    /// NULL, or one of these addresses (`INVALID_HANDLE_VALUE`).
    NullOr(&'a [u32]),
}

/// Where the error code comes from.
#[derive(Debug, Clone, Copy)]
pub enum Code {
    /// The return value (0 for a pointer).
    Return,
    /// `errno`, read right after the call.
    Errno,
    /// `GetLastError()`, read right after the call.
    LastError,
}

/// A return value an error rule can test.
pub trait Outcome: Copy {
    /// Below zero.
    fn negative(self) -> bool;
    /// Zero, false or NULL.
    fn zero(self) -> bool;
    /// As the error code: its value as `i64`, 0 for a pointer.
    fn code(self) -> i64;
    /// A pointer's address (0 for anything else).
    fn address(self) -> usize {
        0
    }
    /// The value itself, as `i64` bits: an integer sign- or zero-extended, a float's
    /// `f64` bits, a pointer's address.
    fn raw(self) -> i64 {
        self.code()
    }
}

macro_rules! outcomes {
    ($($t:ty),*) => {$(
        impl Outcome for $t {
            #[allow(unused_comparisons)]
            fn negative(self) -> bool {
                self < 0 as $t
            }
            fn zero(self) -> bool {
                self == 0 as $t
            }
            fn code(self) -> i64 {
                self as i64
            }
        }
    )*};
}
outcomes!(i8, u8, i16, u16, i32, u32, i64, u64);

macro_rules! float_outcomes {
    ($($t:ty),*) => {$(
        impl Outcome for $t {
            fn negative(self) -> bool {
                self < 0.0
            }
            fn zero(self) -> bool {
                self == 0.0
            }
            fn code(self) -> i64 {
                self as i64
            }
            fn raw(self) -> i64 {
                f64::from(self).to_bits() as i64
            }
        }
    )*};
}
float_outcomes!(f32, f64);

impl Outcome for bool {
    fn negative(self) -> bool {
        false
    }
    fn zero(self) -> bool {
        !self
    }
    fn code(self) -> i64 {
        i64::from(self)
    }
}

impl<T> Outcome for *const T {
    fn negative(self) -> bool {
        false
    }
    fn zero(self) -> bool {
        self.is_null()
    }
    fn code(self) -> i64 {
        0
    }
    fn address(self) -> usize {
        self as usize
    }
    fn raw(self) -> i64 {
        self as usize as i64
    }
}

impl<T> Outcome for *mut T {
    fn negative(self) -> bool {
        false
    }
    fn zero(self) -> bool {
        self.is_null()
    }
    fn code(self) -> i64 {
        0
    }
    fn address(self) -> usize {
        self as usize
    }
    fn raw(self) -> i64 {
        self as usize as i64
    }
}

impl Rule<'_> {
    /// Whether `ret` means failure.
    pub fn failed(self, ret: impl Outcome) -> bool {
        match self {
            Rule::Negative => ret.negative(),
            Rule::Zero | Rule::Null => ret.zero(),
            Rule::Nonzero => !ret.zero(),
            Rule::Not(values) => !values.contains(&ret.code()),
            Rule::NullOr(values) => ret.zero() || values.iter().any(|v| *v as usize == ret.address()),
        }
    }
}

/// Host, right after the call: when `rule` says `ret` is a failure, writes the code (then
/// the raw value, both codes, and whether the results follow: `results`) and returns the
/// status to answer with.
pub fn check(
    out: &mut Writer,
    ret: impl Outcome,
    rule: Rule<'_>,
    code: Code,
    errno: i32,
    last_error: u32,
    results: bool,
) -> Option<Status> {
    if !rule.failed(ret) {
        return None;
    }
    out.i64(match code {
        Code::Return => ret.code(),
        Code::Errno => i64::from(errno),
        Code::LastError => i64::from(last_error),
    });
    out.i64(ret.raw()).i32(errno).u32(last_error).u8(u8::from(results));
    Some(Status::LibraryError)
}

/// Host, right after a call of a function with an error rule: [`check`], the results
/// following a failure when the function can send them (`failure_results`) and the call
/// asked for them (the proxy library's). Returns the status and whether the results
/// follow; what the call asked for is looked up only when it failed.
pub fn check_call(
    out: &mut Writer,
    ret: impl Outcome,
    rule: Rule<'_>,
    code: Code,
    errno: i32,
    last_error: u32,
    failure_results: bool,
) -> Option<(Status, bool)> {
    if !rule.failed(ret) {
        return None;
    }
    let results = failure_results && crate::host::results_on_failure();
    check(out, ret, rule, code, errno, last_error, results).map(|s| (s, results))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Reader;

    #[test]
    fn rules() {
        assert!(
            Rule::Negative.failed(-1i32) && !Rule::Negative.failed(0i32) && !Rule::Negative.failed(u32::MAX)
        );
        assert!(Rule::Zero.failed(0u8) && Rule::Zero.failed(false) && !Rule::Zero.failed(true));
        assert!(Rule::Nonzero.failed(3i64) && !Rule::Nonzero.failed(0u16));
        assert!(Rule::Null.failed(std::ptr::null::<u8>()) && !Rule::Null.failed(b"x".as_ptr()));
        assert!(Rule::Not(&[0, 5]).failed(4i32) && !Rule::Not(&[0, 5]).failed(5u32));
        assert!(Rule::Negative.failed(-0.5f64));
        let mut out = Writer::new();
        assert_eq!(check(&mut out, 7i32, Rule::Zero, Code::Return, 0, 0, false), None);
        assert!(out.is_empty(), "nothing written on success");
        assert_eq!(
            check(&mut out, -3i32, Rule::Negative, Code::Return, 0, 0, false),
            Some(Status::LibraryError)
        );
        assert_eq!(
            check(&mut out, false, Rule::Zero, Code::LastError, 2, 5, true),
            Some(Status::LibraryError)
        );
        assert_eq!(
            check(&mut out, std::ptr::null::<u8>(), Rule::Null, Code::Errno, 12, 0, false),
            Some(Status::LibraryError)
        );
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        let mut next =
            || (r.i64().unwrap(), r.i64().unwrap(), r.i32().unwrap(), r.u32().unwrap(), r.u8().unwrap());
        assert_eq!(next(), (-3, -3, 0, 0, 0), "the code, the raw value, both codes, whether results follow");
        assert_eq!(next(), (5, 0, 2, 5, 1));
        assert_eq!(next(), (12, 0, 12, 0, 0));
        let mut out = Writer::new();
        check(&mut out, -0.5f64, Rule::Negative, Code::Return, 0, 0, false);
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(r.i64().unwrap(), 0, "a float's code is its integer part");
        assert_eq!(f64::from_bits(r.i64().unwrap() as u64), -0.5, "its raw value is exact");
    }
}
