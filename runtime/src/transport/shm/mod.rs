//! The shared-memory transport: two single-producer, single-consumer byte rings in one
//! region private to a client and the host it started, carrying the same frames as the
//! pipe. The pipe stays open as the control channel: the handshake goes over it, and a
//! side waiting on a ring watches it to notice the other side dying or leaving.
//!
//! Layout (offsets in bytes; every shared word a naturally aligned `u32`, so a 32-bit host
//! and a 64-bit client agree): a 4 KiB header (magic, version, ring size, then one control
//! block per ring with `tail`, `head` and the two sleeping flags on separate cache lines),
//! then ring 0 (client to host) and ring 1 (host to client), each a power of two.
//!
//! Nothing read from the region is trusted: each side keeps its own position (`head` for
//! the reader, `tail` for the writer) and reads the other's once per step, refusing a
//! distance larger than the ring; the bytes themselves are copied out once and then parsed
//! as frames, with every length checked as on the pipe.
//!
//! Waiting spins for a bounded time (none on a single CPU), then sleeps on the word it
//! waits for (a futex on Linux) with a short timeout, checking the control pipe each time.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAGIC: u32 = 0x5347_4c44; // "DLGS"
const VERSION: u32 = 2;
/// How far the client's placements in the bulk area went for the call it sends.
const BULK_USED: usize = 16;
const HEADER: usize = 4096;
/// Offsets of the two control blocks, and of their words inside one.
const CONTROL: [usize; 2] = [256, 768];
const TAIL: usize = 0;
const HEAD: usize = 64;
const READER_SLEEPS: usize = 128;
const WRITER_SLEEPS: usize = 192;
/// How long the first sleep lasts before the control pipe is checked again; the naps of a
/// wait that goes on double up to `MAX_NAP` (an idle host wakes a few times a second, and
/// a dead peer is noticed within `MAX_NAP`).
const NAP: Duration = Duration::from_millis(10);
const MAX_NAP: Duration = Duration::from_millis(160);

/// The environment variable the benchmark's floor hands its region through (the runtime
/// itself sends the token in `Hello`).
pub const ENV: &str = "DLLGEN_SHM";

/// The most a writer copies in before publishing: a large frame streams through.
const PIECE: usize = 64 << 10;

/// The largest ring: the region must fit a 32-bit host's address space and `off_t`.
const MAX_RING: usize = 256 << 20;

/// The region a host took, for diagnostics and for tests that play a misbehaving peer.
static IN_USE: std::sync::Mutex<Option<(usize, usize)>> = std::sync::Mutex::new(None);

/// Records `region` as the one this host serves through (see [`in_use`]).
pub(crate) fn set_in_use(region: &Region) {
    *IN_USE.lock().unwrap_or_else(|e| e.into_inner()) = Some((region.base as usize, region.len));
}

/// The address and length of the region this host serves through, if any.
pub fn in_use() -> Option<(usize, usize)> {
    *IN_USE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sizes and waiting behaviour of the shared-memory transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShmConfig {
    /// Bytes per ring (rounded up to a power of two, at least 64 KiB). Frames larger than
    /// a ring go through it in pieces.
    pub ring_bytes: usize,
    /// How long a waiting side spins before it sleeps (ignored on a single CPU).
    pub spin: Duration,
}

impl Default for ShmConfig {
    fn default() -> Self {
        ShmConfig { ring_bytes: 4 << 20, spin: Duration::from_micros(50) }
    }
}

/// A mapped region (unmapped when the last ring end using it is dropped).
pub struct Region {
    base: *mut u8,
    len: usize,
    cap: usize,
    /// The descriptor or handle the host inherits (client side).
    pub(crate) inherit: sys::Shared,
}

// SAFETY: the region is plain shared memory; all access to the control words is atomic and
// each ring has one reader and one writer.
unsafe impl Send for Region {}
// SAFETY: as for Send.
unsafe impl Sync for Region {}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: `base..base+len` was mapped by `create`/`open` and nothing borrows it now.
        unsafe { sys::unmap(self.base, self.len) };
        sys::release(&self.inherit);
    }
}

impl Region {
    /// A fresh region (client side), ready to be inherited by a host.
    pub fn create(config: &ShmConfig) -> io::Result<Region> {
        let cap = config.ring_bytes.clamp(64 << 10, MAX_RING).next_power_of_two();
        let len = HEADER + 3 * cap;
        let (base, inherit) = sys::create(len)?;
        let region = Region { base, len, cap, inherit };
        region.word(0).store(MAGIC, Ordering::Relaxed);
        region.word(4).store(VERSION, Ordering::Relaxed);
        region.word(8).store(cap as u32, Ordering::Release);
        Ok(region)
    }

    /// The region a client handed over (host side), checked before use.
    pub fn open(token: &str) -> io::Result<Region> {
        let (base, len, inherit) = sys::open(token)?;
        let mut region = Region { base, len, cap: 0, inherit };
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("shared region: {what}"));
        if len < HEADER {
            return Err(bad("too small"));
        }
        if region.word(0).load(Ordering::Acquire) != MAGIC
            || region.word(4).load(Ordering::Relaxed) != VERSION
        {
            return Err(bad("not a dllgen region of this version"));
        }
        let cap = region.word(8).load(Ordering::Relaxed) as usize;
        if !cap.is_power_of_two()
            || cap < 4096
            || cap.checked_mul(3).and_then(|c| c.checked_add(HEADER)) != Some(len)
        {
            return Err(bad("ring size does not match the region"));
        }
        region.cap = cap;
        Ok(region)
    }

    /// The mapping's address and length: raw access for diagnostics and for tests that
    /// play a misbehaving peer.
    pub fn raw(&self) -> (*mut u8, usize) {
        (self.base, self.len)
    }

    /// Offset of ring `ring`'s (0: to the host, 1: to the client) control word `word`
    /// (0: tail, 1: head), and of its data (the rings, then the bulk area, each a third of
    /// what follows), for the same purposes as [`Region::raw`].
    pub fn layout(ring: usize, word: usize) -> (usize, usize) {
        (CONTROL[ring & 1] + if word == 0 { TAIL } else { HEAD }, HEADER)
    }

    /// The token a host opens this region with (a child that inherited it, on Linux).
    pub fn token(&self) -> String {
        sys::token(&self.inherit, self.len)
    }

    /// The token for `child`, a host just started: on Windows the handles are duplicated
    /// into it here (never inherited, so no other process the client starts gets them).
    pub fn token_for(&self, child: &std::process::Child) -> io::Result<String> {
        sys::token_for(&self.inherit, self.len, child)
    }

    /// The bulk area (after the two rings, as large as one), placements starting at
    /// `next`.
    pub(crate) fn bulk(&self, next: usize) -> crate::wire::Bulk {
        // SAFETY: the area is inside the mapping, which outlives every call on it (the
        // connection holds the region).
        unsafe { crate::wire::Bulk::new(self.base.add(HEADER + 2 * self.cap), self.cap, next) }
    }

    /// The client says how far its placements for the call it sends went.
    pub fn set_bulk_used(&self, used: usize) {
        self.word(BULK_USED).store(used as u32, Ordering::Release);
    }

    /// How far the client's placements went (read once per call by the host; a bad value
    /// only moves the host's own placements, which are checked against the area).
    pub fn bulk_used(&self) -> usize {
        self.word(BULK_USED).load(Ordering::Acquire) as usize
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        debug_assert!(offset % 4 == 0 && offset + 4 <= HEADER);
        // SAFETY: in the header, 4-aligned (the mapping is page-aligned), alive with self.
        unsafe { &*(self.base.add(offset) as *const AtomicU32) }
    }

    fn control(&self, ring: usize, word: usize) -> &AtomicU32 {
        self.word(CONTROL[ring] + word)
    }

    fn data(&self, ring: usize) -> *mut u8 {
        // SAFETY: within the mapping (HEADER + 2 * cap bytes).
        unsafe { self.base.add(HEADER + ring * self.cap) }
    }
}

/// Whether the other side is still there: the control pipe, polled without blocking.
pub type Alive = Box<dyn FnMut() -> bool + Send>;

/// Watches the read end of a pipe: the other side is gone once it hangs up.
#[derive(Clone)]
pub struct PipeWatch(sys::RawPipe);

impl PipeWatch {
    /// Watches `pipe` (which must stay open as long as the watch is used).
    #[cfg(unix)]
    pub fn new(pipe: &impl std::os::fd::AsRawFd) -> PipeWatch {
        PipeWatch(pipe.as_raw_fd())
    }

    /// Watches `pipe` (which must stay open as long as the watch is used).
    #[cfg(windows)]
    pub fn new(pipe: &impl std::os::windows::io::AsRawHandle) -> PipeWatch {
        PipeWatch(pipe.as_raw_handle() as usize)
    }

    /// Whether the writer of the pipe is still there.
    pub fn alive(&self) -> bool {
        sys::pipe_alive(self.0)
    }

    /// As an [`Alive`] check.
    pub fn boxed(self) -> Alive {
        Box::new(move || self.alive())
    }
}

/// Which ring an end uses: 0 carries client-to-host frames, 1 host-to-client.
#[derive(Clone, Copy)]
pub enum Direction {
    /// Client to host.
    ToHost = 0,
    /// Host to client.
    ToClient = 1,
}

struct End {
    region: Arc<Region>,
    ring: usize,
    /// This side's own position (the shared copy is only for the other side).
    pos: u32,
    spin: Duration,
    /// The longest nap: a host waiting for requests may be idle for hours (its naps grow);
    /// a client waits only inside a call, and notices a host that died (or was stopped at
    /// its deadline) within one short nap.
    max_nap: Duration,
    alive: Alive,
}

impl End {
    fn new(region: Arc<Region>, dir: Direction, config: &ShmConfig, alive: Alive, client: bool) -> End {
        let spin = if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
            config.spin
        } else {
            Duration::ZERO
        };
        let max_nap = if client { NAP } else { MAX_NAP };
        End { region, ring: dir as usize, pos: 0, spin, max_nap, alive }
    }

    /// Waits until `word` differs from `seen`: spin, then sleep in naps, checking that
    /// the other side is alive after each.
    fn wait(&mut self, word: usize, seen: u32, sleeps: usize) -> io::Result<()> {
        let w = self.region.control(self.ring, word);
        if !self.spin.is_zero() {
            let start = Instant::now();
            loop {
                for _ in 0..64 {
                    if w.load(Ordering::Acquire) != seen {
                        return Ok(());
                    }
                    std::hint::spin_loop();
                }
                let waited = start.elapsed();
                if waited >= self.spin {
                    break;
                }
                // Past the first few microseconds the other side may be waiting for this
                // very CPU (the scheduler put both on one): let it run.
                if waited >= Duration::from_micros(5) {
                    std::thread::yield_now();
                }
            }
        }
        let flag = self.region.control(self.ring, sleeps);
        let mut nap = NAP;
        loop {
            flag.store(1, Ordering::SeqCst);
            if w.load(Ordering::SeqCst) != seen {
                flag.store(0, Ordering::Relaxed);
                return Ok(());
            }
            sys::wait(&self.region.inherit, slot(self.ring, word), w, seen, nap);
            nap = (nap * 2).min(self.max_nap);
            flag.store(0, Ordering::Relaxed);
            if w.load(Ordering::Acquire) != seen {
                return Ok(());
            }
            if !(self.alive)() {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the other side is gone"));
            }
        }
    }

    fn wake_if_sleeping(&self, word: usize, sleeps: usize) {
        if self.region.control(self.ring, sleeps).load(Ordering::SeqCst) != 0 {
            sys::wake(&self.region.inherit, slot(self.ring, word), self.region.control(self.ring, word));
        }
    }
}

/// Which of the four wake-up channels (Windows events) a (ring, word) wait uses.
fn slot(ring: usize, word: usize) -> usize {
    ring * 2 + usize::from(word == HEAD)
}

fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "the shared ring's positions are inconsistent")
}

/// The reading end of a ring.
pub struct RingReader(End);

/// The writing end of a ring.
pub struct RingWriter(End);

/// Both ends for one side: (reader, writer). `alive_*` check the control pipe.
pub fn ends(
    region: Arc<Region>,
    client: bool,
    config: &ShmConfig,
    alive_r: Alive,
    alive_w: Alive,
) -> (RingReader, RingWriter) {
    let (r, w) = if client {
        (Direction::ToClient, Direction::ToHost)
    } else {
        (Direction::ToHost, Direction::ToClient)
    };
    (
        RingReader(End::new(region.clone(), r, config, alive_r, client)),
        RingWriter(End::new(region, w, config, alive_w, client)),
    )
}

impl Read for RingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let e = &mut self.0;
        let cap = e.region.cap;
        loop {
            let tail = e.region.control(e.ring, TAIL).load(Ordering::Acquire);
            let avail = tail.wrapping_sub(e.pos) as usize;
            if avail > cap {
                return Err(corrupt());
            }
            if avail == 0 {
                e.wait(TAIL, tail, READER_SLEEPS)?;
                continue;
            }
            let n = avail.min(buf.len());
            let at = e.pos as usize & (cap - 1);
            let first = n.min(cap - at);
            let data = e.region.data(e.ring);
            // SAFETY: both ranges lie inside the ring (at + first <= cap, n - first <= at)
            // and inside `buf`; the writer does not touch [pos, tail) until we advance.
            unsafe {
                std::ptr::copy_nonoverlapping(data.add(at), buf.as_mut_ptr(), first);
                std::ptr::copy_nonoverlapping(data, buf.as_mut_ptr().add(first), n - first);
            }
            e.pos = e.pos.wrapping_add(n as u32);
            e.region.control(e.ring, HEAD).store(e.pos, Ordering::SeqCst);
            e.wake_if_sleeping(HEAD, WRITER_SLEEPS);
            return Ok(n);
        }
    }
}

impl Write for RingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let e = &mut self.0;
        let cap = e.region.cap;
        loop {
            let head = e.region.control(e.ring, HEAD).load(Ordering::Acquire);
            let used = e.pos.wrapping_sub(head) as usize;
            if used > cap {
                return Err(corrupt());
            }
            let room = cap - used;
            if room == 0 {
                e.wait(HEAD, head, WRITER_SLEEPS)?;
                continue;
            }
            // Published in pieces: the reader copies one piece out while the next goes in
            // (on two CPUs a large frame then costs about one copy, not two in a row).
            let n = room.min(buf.len()).min(PIECE);
            let at = e.pos as usize & (cap - 1);
            let first = n.min(cap - at);
            let data = e.region.data(e.ring);
            // SAFETY: both ranges lie inside the ring and are free (the reader is behind
            // `pos - used`); `buf` holds `n` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(buf.as_ptr(), data.add(at), first);
                std::ptr::copy_nonoverlapping(buf.as_ptr().add(first), data, n - first);
            }
            e.pos = e.pos.wrapping_add(n as u32);
            e.region.control(e.ring, TAIL).store(e.pos, Ordering::SeqCst);
            e.wake_if_sleeping(TAIL, READER_SLEEPS);
            return Ok(n);
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod sys;

#[cfg(windows)]
#[path = "windows.rs"]
mod sys;

/// Other systems: no shared memory (the pipe is used).
#[cfg(not(any(target_os = "linux", windows)))]
#[path = "other.rs"]
mod sys;

/// Lets the child `cmd` will start inherit `region` (what the client does for its host;
/// public for benchmarks that start their own peers).
pub fn inheritable(region: &Region, cmd: &mut std::process::Command) {
    sys::inheritable(&region.inherit, cmd)
}

/// Sleeps while `*w == seen` (a word in `region`), at most `timeout`: the primitive the
/// rings sleep on (a futex on Linux, an event on Windows); public for benchmarks measuring
/// the floor under the rings.
pub fn sleep_on(region: &Region, w: &AtomicU32, seen: u32, timeout: Duration) {
    sys::wait(&region.inherit, 0, w, seen, timeout)
}

/// Wakes a side sleeping in [`sleep_on`] on `w`.
pub fn wake(region: &Region, w: &AtomicU32) {
    sys::wake(&region.inherit, 0, w)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    extern "C" {
        fn dup(fd: i32) -> i32;
    }

    /// The host's view of `client`, through its own descriptor (as a child would have).
    fn host_view(client: &Region) -> Region {
        // SAFETY: duplicating an fd we own.
        let fd = unsafe { dup(client.inherit.0) };
        Region::open(&format!("fd:{fd}:{}", client.len)).unwrap()
    }

    fn pair(ring: usize) -> ((RingReader, RingWriter), (RingReader, RingWriter)) {
        let config = ShmConfig { ring_bytes: ring, spin: Duration::from_micros(20) };
        let client = Arc::new(Region::create(&config).unwrap());
        let host = Arc::new(host_view(&client));
        let yes = || Box::new(|| true) as Alive;
        (ends(client, true, &config, yes(), yes()), ends(host, false, &config, yes(), yes()))
    }

    #[test]
    fn frames_larger_than_the_ring_cross_in_pieces() {
        let ((mut cr, mut cw), (mut hr, mut hw)) = pair(64 << 10);
        let big: Vec<u8> = (0..1_000_003u32).map(|i| (i * 7) as u8).collect();
        let sent = big.clone();
        let t = std::thread::spawn(move || {
            cw.write_all(&sent).unwrap();
            let mut back = vec![0u8; 5];
            cr.read_exact(&mut back).unwrap();
            back
        });
        let mut got = vec![0u8; big.len()];
        hr.read_exact(&mut got).unwrap();
        assert!(got == big);
        hw.write_all(b"done!").unwrap();
        assert_eq!(t.join().unwrap(), b"done!");
    }

    #[test]
    fn a_dead_peer_ends_the_wait_and_garbage_positions_are_refused() {
        let config = ShmConfig { ring_bytes: 64 << 10, spin: Duration::ZERO };
        let client = Arc::new(Region::create(&config).unwrap());
        let (mut r, _w) = ends(client.clone(), true, &config, Box::new(|| false), Box::new(|| true));
        let e = r.read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        // A tail far beyond the ring: refused, not trusted.
        client.control(Direction::ToClient as usize, TAIL).store(u32::MAX / 2, Ordering::SeqCst);
        assert_eq!(r.read(&mut [0u8; 4]).unwrap_err().kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn the_region_cannot_be_resized_by_the_host() {
        extern "C" {
            fn ftruncate(fd: i32, len: std::ffi::c_long) -> i32;
        }
        let client = Region::create(&ShmConfig::default()).unwrap();
        let host = host_view(&client);
        // A host truncating the region would turn the client's next access into SIGBUS.
        // SAFETY: a descriptor the test owns.
        assert_ne!(unsafe { ftruncate(host.inherit.0, 0) }, 0, "the memfd is sealed");
        // SAFETY: as above.
        assert_ne!(unsafe { ftruncate(host.inherit.0, 1 << 30) }, 0);
    }

    #[test]
    fn bad_tokens_and_regions_are_refused() {
        assert!(Region::open("fd:x").is_err());
        assert!(Region::open("fd:1:10").is_err());
        assert!(Region::open("nonsense").is_err());
    }
}
