//! The shared-memory floor of the runtime benchmark: the least a call through shared
//! memory can cost. One region (made by `dllgen_runtime::shm::Region`, used only for its
//! mapping), one sequence word each way, the message copied in and out; waits spin for
//! `DLLGEN_FLOOR_SPIN_US` microseconds (0: none), then sleep on the word. Compiled into the
//! benchmark (client side) and into tests/runtime-host (`shm-floor` mode, host side).

#![allow(dead_code)]

use dllgen_runtime::shm::{self, Region};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const REQUEST: usize = 1024;
const REPLY: usize = 1088;
const LEN: usize = 1152;
const REQUEST_SLEEPS: usize = 1216;
const REPLY_SLEEPS: usize = 1280;

/// One side's view of the floor's region.
pub struct Floor {
    region: Region,
    spin: Duration,
    seq: u32,
}

impl Floor {
    /// The client side: a fresh region of `bytes` per direction.
    pub fn create(bytes: usize, spin: Duration) -> Floor {
        let region = Region::create(&shm::ShmConfig { ring_bytes: bytes, spin }).expect("a shared region");
        Floor { region, spin, seq: 0 }
    }

    /// The region, to hand to the peer.
    pub fn region(&self) -> &Region {
        &self.region
    }

    fn word(&self, at: usize) -> &AtomicU32 {
        // SAFETY: inside the 4 KiB header of a live mapping, 4-aligned.
        unsafe { &*(self.region.raw().0.add(at) as *const AtomicU32) }
    }

    fn area(&self, which: usize) -> *mut u8 {
        let (base, len) = self.region.raw();
        let (_, data) = Region::layout(0, 0);
        // SAFETY: the two data halves of the mapping.
        unsafe { base.add(data + which * (len - data) / 2) }
    }

    fn wait(&self, at: usize, sleeps: usize, until: u32) -> bool {
        let w = self.word(at);
        let start = Instant::now();
        while start.elapsed() < self.spin {
            for _ in 0..64 {
                if w.load(Ordering::Acquire) == until {
                    return true;
                }
                std::hint::spin_loop();
            }
        }
        loop {
            let seen = w.load(Ordering::Acquire);
            if seen == until {
                return true;
            }
            self.word(sleeps).store(1, Ordering::SeqCst);
            if w.load(Ordering::SeqCst) == seen {
                shm::sleep_on(&self.region, w, seen, Duration::from_millis(100));
            }
            self.word(sleeps).store(0, Ordering::SeqCst);
        }
    }

    fn publish(&self, at: usize, sleeps: usize, v: u32) {
        self.word(at).store(v, Ordering::SeqCst);
        if self.word(sleeps).load(Ordering::SeqCst) != 0 {
            shm::wake(&self.region, self.word(at));
        }
    }

    /// The client side: sends `msg`, waits for the echo and copies it into `buf`.
    pub fn ping(&mut self, msg: &[u8], buf: &mut Vec<u8>) {
        // SAFETY: the request half is large enough for the benchmark's messages.
        unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), self.area(0), msg.len()) };
        self.word(LEN).store(msg.len() as u32, Ordering::Relaxed);
        self.seq = self.seq.wrapping_add(1);
        self.publish(REQUEST, REQUEST_SLEEPS, self.seq);
        self.wait(REPLY, REPLY_SLEEPS, self.seq);
        buf.resize(msg.len(), 0);
        // SAFETY: the reply half holds the echo of `msg.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(self.area(1), buf.as_mut_ptr(), msg.len()) };
    }
}

/// The host side: echoes requests until it is killed.
pub fn serve() {
    let token = std::env::var(shm::ENV).expect("a shared region");
    let spin = std::env::var("DLLGEN_FLOOR_SPIN_US").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let region = Region::open(&token).expect("the client's region");
    let mut f = Floor { region, spin: Duration::from_micros(spin), seq: 0 };
    let mut buf = Vec::new();
    loop {
        let next = f.seq.wrapping_add(1);
        f.wait(REQUEST, REQUEST_SLEEPS, next);
        f.seq = next;
        let (_, data) = Region::layout(0, 0);
        let len = (f.word(LEN).load(Ordering::Relaxed) as usize).min((f.region.raw().1 - data) / 2);
        buf.resize(len, 0);
        // SAFETY: `len` is bounded by the half's size; copies in, then out, like the pipe echo.
        unsafe {
            std::ptr::copy_nonoverlapping(f.area(0), buf.as_mut_ptr(), len);
            std::ptr::copy_nonoverlapping(buf.as_ptr(), f.area(1), len);
        }
        f.publish(REPLY, REPLY_SLEEPS, f.seq);
    }
}
