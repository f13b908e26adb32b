//! Calling a library function on i686 with the stack pointer checked: the arguments are
//! laid out as 32-bit stack words in a frame of the host's own making, the function is
//! called, and how many bytes it popped is compared with what the declared convention
//! implies (cdecl: none; stdcall: all of its arguments). The stack pointer is restored
//! either way, so a DLL whose convention the header gets wrong (a stdcall export described
//! as cdecl, or the reverse) fails the call with an error naming the convention it really
//! has, instead of corrupting the host's stack.
//!
//! Generated hosts use it for every cdecl and stdcall function that does not return a
//! struct by value (those, and fastcall functions, are called through their typed pointer).

use crate::wire::WireError;
use std::ffi::c_void;

/// Who pops a function's stack arguments, as its declared convention says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pops {
    /// The caller (cdecl): the function pops nothing.
    Caller,
    /// The callee (stdcall): the function pops all of its arguments.
    Callee,
}

/// The stack words of one call (arguments in order, each value as C passes it on i386).
pub struct Words {
    inline: [u32; 32],
    len: usize,
    heap: Vec<u32>,
}

impl Default for Words {
    fn default() -> Self {
        Words::new()
    }
}

impl Words {
    pub fn new() -> Words {
        Words { inline: [0; 32], len: 0, heap: Vec::new() }
    }

    fn word(&mut self, w: u32) {
        if self.len < self.inline.len() {
            self.inline[self.len] = w;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.inline);
            }
            self.heap.push(w);
        }
        self.len += 1;
    }

    fn as_slice(&self) -> &[u32] {
        if self.len <= self.inline.len() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }

    /// Appends an argument.
    pub fn push<A: Arg>(&mut self, a: A) -> &mut Self {
        a.words(self);
        self
    }

    /// Calls `f` with these words as its stack arguments. `what` names the function for
    /// the error.
    ///
    /// # Safety
    /// `f` is a function of this convention whose parameters are these words, returning `R`.
    pub unsafe fn call<R: Ret>(
        &self,
        f: *const c_void,
        pops: Pops,
        what: &'static str,
    ) -> Result<R, WireError> {
        let words = self.as_slice();
        // SAFETY: the caller's promise.
        let (lo, hi, st0, popped) = unsafe { raw(f, words, R::FLOAT) };
        let expected = match pops {
            Pops::Caller => 0,
            Pops::Callee => 4 * words.len() as u32,
        };
        if popped != expected {
            return Err(WireError::Convention {
                what,
                declared: pops == Pops::Callee,
                popped,
                given: 4 * words.len() as u32,
            });
        }
        Ok(R::from_regs(lo, hi, st0))
    }
}

/// Calls `f` with `words` as its stack arguments (16-byte aligned, as GCC and MSVC
/// assume); returns EAX, EDX, ST(0) when `float` (the x87 result, popped) and how many
/// bytes the callee popped. The stack pointer is the host's own again afterwards.
#[cfg(target_arch = "x86")]
unsafe fn raw(f: *const c_void, words: &[u32], float: bool) -> (u32, u32, f64, u32) {
    // [0]: the stack pointer before, [1]: after the call, [2]: the function, [3]: the
    // arguments' base; [4..6]: ST(0) as a double; [6]: whether the result is in ST(0).
    let mut frame = [0u32; 7];
    frame[2] = f as u32;
    frame[6] = u32::from(float);
    let (lo, hi): (u32, u32);
    // SAFETY: the frame is built below the host's stack pointer, which is restored from
    // `frame[0]` (EDI is callee-saved in both conventions, so it still points there);
    // the callee may clobber what the C ABI lets it clobber (`clobber_abi`). ST(0) is
    // popped only when the function returns in it.
    unsafe {
        std::arch::asm!(
            "mov [edi], esp",
            "lea eax, [ecx*4]",
            "sub esp, eax",
            "and esp, -16",
            "mov [edi + 12], esp",
            "test ecx, ecx",
            "jz 3f",
            "2:",
            "mov eax, [edx + ecx*4 - 4]",
            "mov [esp + ecx*4 - 4], eax",
            "dec ecx",
            "jnz 2b",
            "3:",
            "call dword ptr [edi + 8]",
            "mov [edi + 4], esp",
            "mov esp, [edi]",
            "cmp dword ptr [edi + 24], 0",
            "je 4f",
            "fstp qword ptr [edi + 16]",
            "4:",
            in("edi") frame.as_mut_ptr(),
            inout("ecx") words.len() => _,
            inout("edx") words.as_ptr() => hi,
            out("eax") lo,
            clobber_abi("C"),
        );
    }
    let st0 = f64::from_bits(u64::from(frame[4]) | (u64::from(frame[5]) << 32));
    (lo, hi, st0, frame[1].wrapping_sub(frame[3]))
}

/// Only i686 has conventions that pop the stack; elsewhere generated hosts call through
/// the typed pointer and never reach this.
#[cfg(not(target_arch = "x86"))]
unsafe fn raw(_: *const c_void, _: &[u32], _: bool) -> (u32, u32, f64, u32) {
    unreachable!("stack-word calls exist on i686 only")
}

/// A value as C passes it on the i386 stack.
pub trait Arg {
    /// Appends its words.
    fn words(self, w: &mut Words);
}

macro_rules! small_ints {
    ($($t:ty => $via:ty),*) => {$(
        impl Arg for $t {
            fn words(self, w: &mut Words) {
                // Promoted to a full word, extended by its own signedness.
                w.word(self as $via as u32);
            }
        }
    )*};
}
small_ints!(i8 => i32, u8 => u32, i16 => i32, u16 => u32, i32 => i32, u32 => u32, isize => i32, usize => u32);

impl Arg for bool {
    fn words(self, w: &mut Words) {
        w.word(u32::from(self));
    }
}

impl Arg for i64 {
    fn words(self, w: &mut Words) {
        (self as u64).words(w);
    }
}

impl Arg for u64 {
    fn words(self, w: &mut Words) {
        w.word(self as u32);
        w.word((self >> 32) as u32);
    }
}

impl Arg for f32 {
    fn words(self, w: &mut Words) {
        w.word(self.to_bits());
    }
}

impl Arg for f64 {
    fn words(self, w: &mut Words) {
        self.to_bits().words(w);
    }
}

impl<T> Arg for *const T {
    fn words(self, w: &mut Words) {
        w.word(self as usize as u32);
    }
}

impl<T> Arg for *mut T {
    fn words(self, w: &mut Words) {
        w.word(self as usize as u32);
    }
}

impl<T> Arg for &mut T {
    fn words(self, w: &mut Words) {
        (self as *mut T).words(w);
    }
}

impl<T> Arg for &T {
    fn words(self, w: &mut Words) {
        (self as *const T).words(w);
    }
}

/// Function pointers (callback trampolines), NULL as `None`.
impl<F: Copy> Arg for Option<F> {
    fn words(self, w: &mut Words) {
        let address = match self {
            Some(f) => {
                assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<usize>());
                // SAFETY: only function pointers are passed here, pointer-sized (asserted).
                unsafe { std::mem::transmute_copy::<F, usize>(&f) }
            }
            None => 0,
        };
        w.word(address as u32);
    }
}

/// A struct passed by value: its bytes, as words (the last one zero-padded). `T` is a
/// `#[repr(C)]` struct without implicit padding (generated hosts pass their mirrors of the
/// library's layout, whose padding is explicit).
pub struct ByValue<T: Copy>(pub T);

impl<T: Copy> Arg for ByValue<T> {
    fn words(self, w: &mut Words) {
        let size = std::mem::size_of::<T>();
        // SAFETY: `size` initialized bytes of a plain struct (no implicit padding, by the
        // type's contract above).
        let bytes = unsafe { std::slice::from_raw_parts((&self.0 as *const T).cast::<u8>(), size) };
        for chunk in bytes.chunks(4) {
            let mut b = [0u8; 4];
            b[..chunk.len()].copy_from_slice(chunk);
            w.word(u32::from_le_bytes(b));
        }
    }
}

/// A result as the i386 conventions return it: EAX, EDX:EAX, or ST(0).
pub trait Ret: Sized {
    /// Whether it comes back in ST(0).
    const FLOAT: bool = false;
    fn from_regs(lo: u32, hi: u32, st0: f64) -> Self;
}

impl Ret for () {
    fn from_regs(_: u32, _: u32, _: f64) {}
}

macro_rules! ret_ints {
    ($($t:ty),*) => {$(
        impl Ret for $t {
            fn from_regs(lo: u32, _: u32, _: f64) -> Self {
                lo as $t
            }
        }
    )*};
}
ret_ints!(i8, u8, i16, u16, i32, u32, isize, usize);

impl Ret for bool {
    fn from_regs(lo: u32, _: u32, _: f64) -> Self {
        lo as u8 != 0
    }
}

impl Ret for u64 {
    fn from_regs(lo: u32, hi: u32, _: f64) -> Self {
        u64::from(lo) | (u64::from(hi) << 32)
    }
}

impl Ret for i64 {
    fn from_regs(lo: u32, hi: u32, st0: f64) -> Self {
        u64::from_regs(lo, hi, st0) as i64
    }
}

impl Ret for f64 {
    const FLOAT: bool = true;
    fn from_regs(_: u32, _: u32, st0: f64) -> Self {
        st0
    }
}

impl Ret for f32 {
    const FLOAT: bool = true;
    fn from_regs(_: u32, _: u32, st0: f64) -> Self {
        st0 as f32
    }
}

impl<T> Ret for *const T {
    fn from_regs(lo: u32, _: u32, _: f64) -> Self {
        lo as usize as *const T
    }
}

impl<T> Ret for *mut T {
    fn from_regs(lo: u32, _: u32, _: f64) -> Self {
        lo as usize as *mut T
    }
}

#[cfg(all(test, target_arch = "x86"))]
mod tests {
    use super::*;

    extern "C" fn add3(a: i32, b: i64, c: f64) -> f64 {
        a as f64 + b as f64 + c
    }
    extern "stdcall" fn sub(a: i32, b: i32) -> i32 {
        a - b
    }
    extern "C" fn wide(a: u64, b: u8) -> u64 {
        a + u64::from(b)
    }

    #[test]
    fn calls_each_convention_and_names_a_mismatch() {
        let mut w = Words::new();
        w.push(1i32).push(2i64).push(0.5f64);
        // SAFETY: each function has the prototype its words are built for.
        let r: f64 = unsafe { w.call(add3 as *const c_void, Pops::Caller, "add3") }.unwrap();
        assert_eq!(r, 3.5);
        let mut w = Words::new();
        w.push(10i32).push(3i32);
        // SAFETY: each function has the prototype its words are built for.
        assert_eq!(unsafe { w.call::<i32>(sub as *const c_void, Pops::Callee, "sub") }.unwrap(), 7);
        // stdcall described as cdecl: it pops 8 bytes; the stack is restored and the call fails.
        // SAFETY: each function has the prototype its words are built for.
        let e = unsafe { w.call::<i32>(sub as *const c_void, Pops::Caller, "sub") }.unwrap_err();
        assert!(e.to_string().contains("stdcall"), "{e}");
        // cdecl described as stdcall.
        let mut w = Words::new();
        w.push(u64::MAX - 5).push(3u8);
        // SAFETY: each function has the prototype its words are built for.
        let e = unsafe { w.call::<u64>(wide as *const c_void, Pops::Callee, "wide") }.unwrap_err();
        assert!(e.to_string().contains("cdecl"), "{e}");
        // SAFETY: each function has the prototype its words are built for.
        let back = unsafe { w.call::<u64>(wide as *const c_void, Pops::Caller, "wide") }.unwrap();
        assert_eq!(back, u64::MAX - 2);
    }

    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Forty([u32; 40]);

    extern "C" fn sum(a: Forty, k: u32) -> u32 {
        a.0.iter().sum::<u32>() * k
    }

    #[test]
    fn a_struct_by_value_of_more_words_than_fit_inline() {
        let mut w = Words::new();
        let forty = Forty(std::array::from_fn(|i| i as u32));
        w.push(ByValue(forty)).push(2u32);
        assert_eq!(w.as_slice().len(), 41);
        // SAFETY: `sum` takes these 41 words.
        assert_eq!(unsafe { w.call::<u32>(sum as *const c_void, Pops::Caller, "sum") }.unwrap(), 780 * 2);
    }
}
