//! The host's storage for buffers of numbers: aligned, pooled per thread, or in place in
//! the shared bulk area.

use crate::wire::{Element, Reader, WireError, Writer};
use std::cell::RefCell;
use std::marker::PhantomData;

thread_local! {
    /// Storage of finished [`Scratch`] buffers, reused by the next call on this thread.
    static POOL: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
}

/// Buffers kept in the pool at most, and the largest kept.
const POOL_BUFFERS: usize = 8;
const POOL_MAX_BYTES: usize = 64 << 20;

/// An aligned buffer of numbers for one call's in-buffer, in-place buffer or out-buffer
/// (host side), whose storage comes from and returns to a per-thread pool: a host calling
/// with the same large buffers again and again allocates (and page-faults) once, not per
/// call (a 32-bit glibc serves every allocation above 512 KiB with a fresh `mmap`).
pub struct Scratch<T: Element> {
    storage: Vec<u64>,
    /// Where the elements are: `storage`, or the shared bulk area (in place).
    ptr: *mut T,
    len: usize,
    _t: PhantomData<T>,
}

impl<T: Element> Scratch<T> {
    fn with_len(len: usize) -> Scratch<T> {
        debug_assert!(std::mem::align_of::<T>() <= 8);
        let words = (len * T::SIZE).div_ceil(8);
        let mut storage = POOL.with(|p| {
            let mut p = p.borrow_mut();
            // The smallest kept buffer that is large enough, else any (it grows).
            let best = (0..p.len()).filter(|i| p[*i].len() >= words).min_by_key(|i| p[*i].len());
            match best.or(if p.is_empty() { None } else { Some(0) }) {
                Some(i) => p.swap_remove(i),
                None => Vec::new(),
            }
        });
        if storage.len() < words {
            // Only growth is zeroed; kept bytes are overwritten by the caller.
            storage.resize(words, 0);
        }
        let ptr = storage.as_mut_ptr().cast::<T>();
        Scratch { storage, ptr, len, _t: PhantomData }
    }

    /// Elements in the shared bulk area, used in place.
    fn placed(ptr: *mut u8, len: usize) -> Scratch<T> {
        Scratch { storage: Vec::new(), ptr: ptr.cast::<T>(), len, _t: PhantomData }
    }

    /// A byte string read as numbers (as [`Reader::elements`]), into pooled storage.
    pub fn read(r: &mut Reader<'_>) -> Result<Scratch<T>, WireError> {
        let b = match r.bytes_placed()? {
            // In the bulk area, 8-aligned: the library works on it in place.
            Ok((p, n)) if n % T::SIZE == 0 && cfg!(target_endian = "little") && p as usize % 8 == 0 => {
                return Ok(Scratch::placed(p, n / T::SIZE));
            }
            // SAFETY: a reference the reader checked against the area (mapped for the call).
            // The client may still write it: the bytes are copied into the storage below and
            // decoded from the copy, never validated in place.
            Ok((p, n)) => unsafe { std::slice::from_raw_parts(p as *const u8, n) },
            Err(b) => b,
        };
        if b.len() % T::SIZE != 0 {
            return Err(WireError::Payload("a buffer is not a whole number of elements"));
        }
        let mut s = Scratch::with_len(b.len() / T::SIZE);
        if cfg!(target_endian = "little") {
            // SAFETY: the storage holds at least `b.len()` bytes, aligned for any Element.
            unsafe {
                std::ptr::copy_nonoverlapping(b.as_ptr(), s.storage.as_mut_ptr().cast::<u8>(), b.len())
            };
        } else {
            for (d, c) in s.iter_mut().zip(b.chunks_exact(T::SIZE)) {
                *d = T::from_le(c);
            }
        }
        Ok(s)
    }

    /// `len` zeros (an out-buffer: nothing from an earlier call can leak into a reply).
    pub fn zeroed(len: usize) -> Scratch<T> {
        let mut s = Scratch::with_len(len);
        s.iter_mut().for_each(|e| *e = T::default());
        s
    }

    /// `len` zeros, in the reply's bulk area when it has one and room (the library then
    /// writes the out-buffer where the client reads it), else as [`Scratch::zeroed`].
    pub fn zeroed_in(out: &mut Writer, len: usize) -> Scratch<T> {
        match out.bulk_alloc(len * T::SIZE) {
            Some(p) => {
                // SAFETY: a fresh placement of `len * SIZE` bytes, 8-aligned.
                unsafe { std::ptr::write_bytes(p, 0, len * T::SIZE) };
                Scratch::placed(p, len)
            }
            None => Scratch::zeroed(len),
        }
    }
}

impl<T: Element> std::ops::Deref for Scratch<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: `len` elements at `ptr`: in the storage (8-aligned, initialized words) or
        // in the bulk area, checked and alive for the call; every bit pattern is a number,
        // so what the other process may write there meanwhile is still a valid value (it is
        // the library's buffer: its contents are data, never trusted as lengths or offsets).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T: Element> std::ops::DerefMut for Scratch<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as above, borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl<T: Element> Drop for Scratch<T> {
    fn drop(&mut self) {
        let storage = std::mem::take(&mut self.storage);
        if storage.is_empty() || storage.len() * 8 > POOL_MAX_BYTES {
            return;
        }
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                if p.len() < POOL_BUFFERS {
                    p.push(storage);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_buffers_are_reused_and_out_buffers_start_at_zero() {
        let mut w = Writer::new();
        w.elements(&[1.5f64, 2.5, -1.0]).elements(&[7u16; 5]);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let a = Scratch::<f64>::read(&mut r).unwrap();
        assert_eq!(&a[..], [1.5, 2.5, -1.0]);
        let at = a.as_ptr() as usize;
        assert_eq!(at % 8, 0, "aligned");
        drop(a);
        let mut b = Scratch::<u16>::read(&mut r).unwrap();
        assert_eq!(&b[..], [7; 5]);
        assert_eq!(b.as_ptr() as usize, at, "the storage came back from the pool");
        b[0] = 9;
        drop(b);
        let z = Scratch::<u32>::zeroed(3);
        assert_eq!(&z[..], [0, 0, 0], "no bytes of the earlier buffer");
        assert!(Scratch::<u32>::read(&mut Reader::new(&[3, 0, 0, 0, 1, 2, 3])).is_err());
    }
    #[test]
    fn large_buffers_go_through_the_bulk_area_and_references_are_checked() {
        use crate::wire::Bulk;
        let mut area = vec![0u64; 1 << 14]; // 128 KiB, 8-aligned
        let base = area.as_mut_ptr().cast::<u8>();
        // SAFETY: `area` outlives every use below.
        let bulk = unsafe { Bulk::new(base, 1 << 17, 0) };
        let big: Vec<u32> = (0..10_000).collect();
        let mut w = Writer::new();
        w.attach_bulk(bulk);
        w.elements(&big).bytes(b"small stays inline");
        let used = w.detach_bulk().unwrap().used();
        assert_eq!(used, 40_000);
        assert!(w.payload().len() < 64, "only a reference in the frame");
        let frame = w.payload().to_vec();

        // The host reads in place, and its reply refers to the same bytes without a copy.
        let mut r = Reader::with_bulk(&frame, Some(bulk));
        let mut s = Scratch::<u32>::read(&mut r).unwrap();
        assert_eq!(s.as_ptr() as usize, base as usize, "in place");
        s[0] = 77;
        assert_eq!(r.bytes().unwrap(), b"small stays inline");
        let mut out = Writer::new();
        // SAFETY: as above.
        out.attach_bulk(unsafe { Bulk::new(base, 1 << 17, used) });
        let placed = Scratch::<u16>::zeroed_in(&mut out, 20_000);
        assert!(placed.as_ptr() as usize >= base as usize + used, "after the client's");
        out.elements(&s).elements(&placed);
        out.detach_bulk();
        let reply = out.payload().to_vec();
        let mut r = Reader::with_bulk(&reply, Some(bulk));
        let mut back = vec![0u32; 10_000];
        r.elements_into(&mut back).unwrap();
        assert_eq!(back[0], 77);
        assert_eq!(back[1..], big[1..]);
        assert_eq!(r.elements::<u16>().unwrap(), vec![0u16; 20_000]);

        // Without the area, or outside it, a reference is an error.
        assert!(Reader::new(&reply).bytes().is_err());
        let mut forged = Writer::new();
        forged.u32(1000 | 1 << 31).u32((1 << 17) - 10);
        let forged = forged.payload().to_vec();
        assert!(Reader::with_bulk(&forged, Some(bulk)).bytes().is_err());
        drop(area);
    }
}
