//! The wire format: length-prefixed frames of fixed-width little-endian fields. Nothing
//! on the wire depends on the build target (no `usize`, no pointers), so a 32-bit host and
//! a 64-bit client read the same bytes.
//!
//! A frame is a 16-byte header followed by `len` payload bytes:
//!
//! | offset | size | field                                              |
//! |--------|------|----------------------------------------------------|
//! | 0      | 4    | `len`: payload bytes (checked against a maximum before anything is allocated) |
//! | 4      | 1    | `kind` ([`Kind`])                                  |
//! | 5      | 1    | `status` ([`Status`])                              |
//! | 6      | 2    | `lane`: which host thread the frame is for or from (0: the library thread) |
//! | 8      | 4    | `id`: function index, or callback index            |
//! | 12     | 4    | `seq`: call sequence number, echoed in the reply   |
//!
//! Payloads are built with [`Writer`] and read with [`Reader`]: integers and floats
//! little-endian, byte strings as a `u32` length and the bytes.

use std::fmt;
use std::io::{self, Read, Write};

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 16;
/// The default largest payload either side accepts.
pub const DEFAULT_MAX_FRAME: u32 = 256 << 20;

/// What a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Client → host: protocol version and model hash.
    Hello = 1,
    /// Host → client: the handshake's answer.
    HelloAck = 2,
    /// Client → host: call function `id`.
    Call = 3,
    /// Host → client: the result of the call `seq`.
    Return = 4,
    /// Host → client, during a call: run callback `id`.
    Callback = 5,
    /// Client → host: the callback's result.
    CallbackReturn = 6,
    /// Host → client, while call `seq` runs: the host process is alive (sent from a
    /// thread other than the library thread, so a long library call still shows it).
    Alive = 7,
    /// Host → client, during call `seq`: the kept callbacks (registration ids, `u32` count
    /// then ids) the library let go of; the client drops their closures.
    Release = 8,
    /// Host → client: a thread of the library's own (the frame's `lane`) runs kept callback
    /// `id` with no call of it in flight; `seq` is the event's number.
    Event = 9,
    /// Client → host, on the event's lane: its result (`CallbackFailed`: the closure could
    /// not answer).
    EventReturn = 10,
    /// Client → host, between calls: the resident structs (`u32` count, then `u64` ids) the
    /// client dropped; the host ends and frees them. No reply.
    Free = 11,
}

impl Kind {
    fn from_u8(v: u8) -> Option<Kind> {
        Some(match v {
            1 => Kind::Hello,
            2 => Kind::HelloAck,
            3 => Kind::Call,
            4 => Kind::Return,
            5 => Kind::Callback,
            6 => Kind::CallbackReturn,
            7 => Kind::Alive,
            8 => Kind::Release,
            9 => Kind::Event,
            10 => Kind::EventReturn,
            11 => Kind::Free,
            _ => return None,
        })
    }
}

/// How a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// Success; the payload is the result.
    Ok = 0,
    /// The library reported an error; the payload carries it.
    LibraryError = 1,
    /// The peer sent something unreadable; the payload is a message.
    ProtocolError = 2,
    /// The host's own code panicked; the payload is the message.
    HostPanic = 3,
    /// The handshake was refused; the payload is the reason.
    Refused = 4,
    /// The call used a handle that is not open (closed, from another host process, NULL
    /// where one is needed); the payload is the message.
    BadHandle = 5,
    /// A callback could not answer (its closure panicked or was released, the library
    /// called it with an unknown context): in a `CallbackReturn`, the client's message; in
    /// a `Return`, the call's result is lost and the payload says why.
    CallbackFailed = 6,
}

impl Status {
    fn from_u8(v: u8) -> Option<Status> {
        Some(match v {
            0 => Status::Ok,
            1 => Status::LibraryError,
            2 => Status::ProtocolError,
            3 => Status::HostPanic,
            4 => Status::Refused,
            5 => Status::BadHandle,
            6 => Status::CallbackFailed,
            _ => return None,
        })
    }
}

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Payload length.
    pub len: u32,
    /// What the frame is.
    pub kind: Kind,
    /// How it ended (replies).
    pub status: Status,
    /// Function or callback index.
    pub id: u32,
    /// Call sequence number.
    pub seq: u32,
    /// The host thread the frame is for (client → host) or from (host → client): 0 for
    /// the library thread, another number for a library thread waiting in an event (see
    /// [`Kind::Event`]); calls and callbacks nested in an event travel on its lane.
    pub lane: u16,
}

impl Header {
    /// The 16 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&self.len.to_le_bytes());
        b[4] = self.kind as u8;
        b[5] = self.status as u8;
        b[6..8].copy_from_slice(&self.lane.to_le_bytes());
        b[8..12].copy_from_slice(&self.id.to_le_bytes());
        b[12..16].copy_from_slice(&self.seq.to_le_bytes());
        b
    }

    /// Parses and checks a header: known kind and status, a length within `max`.
    pub fn decode(b: &[u8; HEADER_LEN], max: u32) -> Result<Header, WireError> {
        let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let kind = Kind::from_u8(b[4]).ok_or(WireError::BadKind(b[4]))?;
        let status = Status::from_u8(b[5]).ok_or(WireError::BadStatus(b[5]))?;
        let lane = u16::from_le_bytes([b[6], b[7]]);
        if len > max {
            return Err(WireError::TooLarge { len, max });
        }
        let id = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
        let seq = u32::from_le_bytes([b[12], b[13], b[14], b[15]]);
        Ok(Header { len, kind, status, id, seq, lane })
    }
}

/// Why bytes could not be read as frames or payload values.
#[derive(Debug)]
pub enum WireError {
    /// The stream ended between frames (the peer closed it).
    Closed,
    /// The stream ended inside a frame.
    Truncated,
    /// An unknown frame kind.
    BadKind(u8),
    /// An unknown status.
    BadStatus(u8),
    /// A frame longer than the configured maximum.
    TooLarge {
        /// The announced length.
        len: u32,
        /// The maximum.
        max: u32,
    },
    /// A payload value runs past the payload's end, or is malformed.
    Payload(&'static str),
    /// A handle argument that is not open here: a usage error, not a broken peer.
    BadHandle(&'static str),
    /// A reply holds more than the call made room for (an out-buffer longer than its
    /// capacity): the peer is lying or broken.
    OverCapacity {
        /// What the reply announced.
        len: u64,
        /// What the call asked for at most.
        max: u64,
        /// What both count (`bytes`, `values`).
        unit: &'static str,
    },
    /// The library reported filling more of an out-buffer than it was given (it wrote past
    /// the buffer, or it reports the size it needs), or a negative count: refused, never
    /// truncated.
    Reported {
        /// The count the library reported.
        count: i128,
        /// The buffer's capacity, in the same unit.
        capacity: u64,
    },
    /// The library wrote past what it was given (an output's guard was changed).
    Overrun {
        /// The function and parameter (`` `f` parameter `p` ``).
        what: &'static str,
        /// How many bytes it was given.
        given: u64,
    },
    /// A library function popped a different number of bytes of arguments than its
    /// declared convention implies: the header (or spec) names the wrong convention. The
    /// host restored its stack; the call's results are refused.
    Convention {
        /// The function (`` `f` ``).
        what: &'static str,
        /// Declared stdcall (else cdecl).
        declared: bool,
        /// What it popped.
        popped: u32,
        /// Its arguments' bytes.
        given: u32,
    },
    /// A result that should point into a buffer the call passed points elsewhere.
    OutsideBuffer {
        /// The function and parameter.
        what: &'static str,
    },
    /// A buffer grown as often as the host grows one still was not enough.
    StillTooSmall {
        /// The function and parameter.
        what: &'static str,
        /// What the library said it needs the last time.
        needed: u64,
        /// How many times it was grown.
        tries: u32,
    },
    /// A callback could not answer during the call (see [`Status::CallbackFailed`]).
    Callback(String),
    /// The operating system's error.
    Io(io::Error),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Closed => write!(f, "the connection was closed"),
            WireError::Truncated => write!(f, "the connection was closed in the middle of a frame"),
            WireError::BadKind(k) => write!(f, "unknown frame kind {k}"),
            WireError::BadStatus(s) => write!(f, "unknown frame status {s}"),
            WireError::TooLarge { len, max } => {
                write!(f, "a frame of {len} bytes exceeds the maximum of {max}")
            }
            WireError::Payload(what) => write!(f, "malformed payload: {what}"),
            WireError::Callback(why) => write!(f, "{why}"),
            WireError::BadHandle(what) => write!(f, "{what}"),
            WireError::OverCapacity { len, max, unit } => {
                write!(f, "a reply of {len} {unit} where the call asked for at most {max}")
            }
            WireError::Reported { count, capacity } => write!(
                f,
                "the library reported {count} elements filled in an output buffer of {capacity}: refused rather than truncated (it wrote past the buffer, or reports the size it needs)"
            ),
            WireError::Overrun { what, given } => write!(
                f,
                "the library wrote past the end of {what} ({given} bytes given): the spec gives it less than it writes (an `out` that is really an array, a capacity or units that are wrong?)"
            ),
            WireError::Convention { what, declared, popped, given } => {
                let declared_as = if *declared { "stdcall" } else { "cdecl" };
                match (*popped, *declared) {
                    (p, false) if p == *given => write!(
                        f,
                        "{what} is stdcall: it popped its {p} bytes of arguments, but is declared {declared_as}; the host restored its stack and refused the result (say `calling_convention: stdcall` for it in the spec)"
                    ),
                    (0, true) => write!(
                        f,
                        "{what} is cdecl: it popped none of its {given} bytes of arguments, but is declared {declared_as}; the host restored its stack and refused the result (say `calling_convention: cdecl` for it in the spec)"
                    ),
                    (p, _) => write!(
                        f,
                        "{what} popped {p} bytes of arguments where its prototype ({declared_as}) has {given}: the prototype's parameters do not match the library's; the host restored its stack and refused the result"
                    ),
                }
            }
            WireError::OutsideBuffer { what } => write!(
                f,
                "the library returned a pointer outside {what}, where the spec says its result points into it"
            ),
            WireError::StillTooSmall { what, needed, tries } => write!(
                f,
                "{what}: grown {tries} times, the library still needs more ({needed}): refused"
            ),
            WireError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for WireError {}

/// A received frame's payload. Its buffer only grows and stays initialized from frame to
/// frame, so a steady stream of large frames costs no allocation and no zero-filling.
#[derive(Debug, Default)]
pub struct Payload {
    buf: Vec<u8>,
    len: usize,
}

impl Payload {
    /// An empty payload.
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::ops::Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// A frame taken off a stream by a reader thread, or why the stream ended.
pub type Incoming = Result<(Header, Payload), WireError>;

/// The next frame a reader thread queued: like the rings' waits, it spins a little first
/// when the process has a second CPU (a reply usually follows within microseconds, and
/// parking costs a wake-up on each side), then blocks. `None`: the reader is gone.
pub fn next_queued(rx: &std::sync::mpsc::Receiver<Incoming>) -> Option<Incoming> {
    use std::sync::mpsc::TryRecvError;
    static CPUS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let spin = *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()) > 1);
    if spin {
        let start = std::time::Instant::now();
        loop {
            match rx.try_recv() {
                Ok(v) => return Some(v),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {}
            }
            let waited = start.elapsed();
            if waited >= std::time::Duration::from_micros(50) {
                break;
            }
            if waited >= std::time::Duration::from_micros(5) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
    rx.recv().ok()
}

/// Reads one frame: its header, and its payload into `payload` (its buffer is reused from
/// frame to frame). The length must pass the `max` check, and even then memory grows with
/// the bytes that actually arrive: a peer announcing a huge frame and sending nothing costs
/// at most 1 MiB.
pub fn read_frame<R: Read + ?Sized>(r: &mut R, max: u32, payload: &mut Payload) -> Result<Header, WireError> {
    // Below 2 GiB whatever the configuration: a byte string's length in a frame then never
    // has the top bit set, which marks a bulk reference.
    let max = max.min(BULK_FLAG - 1);
    let mut h = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match r.read(&mut h[got..]) {
            Ok(0) if got == 0 => return Err(WireError::Closed),
            Ok(0) => return Err(WireError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_disconnect(&e) => {
                return Err(if got == 0 { WireError::Closed } else { WireError::Truncated })
            }
            Err(e) => return Err(WireError::Io(e)),
        }
    }
    let header = Header::decode(&h, max)?;
    let len = header.len as usize;
    payload.len = 0;
    while payload.len < len {
        let end = len.min(payload.len + (1 << 20));
        if payload.buf.len() < end {
            // Only new room is zeroed, once: the buffer never shrinks.
            payload.buf.resize(end, 0);
        }
        match r.read(&mut payload.buf[payload.len..end]) {
            Ok(0) => return Err(WireError::Truncated),
            Ok(n) => payload.len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_disconnect(&e) => return Err(WireError::Truncated),
            Err(e) => return Err(WireError::Io(e)),
        }
    }
    Ok(header)
}

/// Errors that mean "the other side is gone" on pipes and sockets.
pub fn is_disconnect(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof)
        // ERROR_BROKEN_PIPE (109) and ERROR_NO_DATA (232) on Windows pipes.
        || (cfg!(windows) && matches!(e.raw_os_error(), Some(109) | Some(232)))
}

/// The bulk area of a shared region, as one call's frames use it: large byte strings and
/// number arrays are placed there and the frame carries only a reference (a length with
/// the top bit set, then an offset), so they cross without going through the rings, and
/// the host hands the library pointers into the area itself (in place).
#[derive(Debug, Clone, Copy)]
pub struct Bulk {
    base: *mut u8,
    cap: usize,
    /// Where the next placement goes (this side's own cursor).
    next: usize,
}

// SAFETY: a view of shared memory used by one call at a time; the other process may write
// it too, which is why every read from it copies the bytes before validating them.
unsafe impl Send for Bulk {}
// SAFETY: as for Send.
unsafe impl Sync for Bulk {}

/// Byte strings shorter than this stay in the frame (a reference costs a lookup).
pub const BULK_MIN: usize = 16 << 10;
const BULK_FLAG: u32 = 1 << 31;

impl Bulk {
    /// A view of `cap` bytes at `base`, placements starting at `next`.
    ///
    /// # Safety
    /// `base..base+cap` is mapped for as long as the view (and what it hands out) is used.
    pub unsafe fn new(base: *mut u8, cap: usize, next: usize) -> Bulk {
        Bulk { base, cap, next: next.min(cap) }
    }

    /// How far placements went.
    pub fn used(&self) -> usize {
        self.next
    }

    /// `len` bytes at an 8-aligned offset, or `None` when the area is full.
    pub fn alloc(&mut self, len: usize) -> Option<(usize, *mut u8)> {
        let at = self.next.checked_add(7)? & !7;
        let end = at.checked_add(len)?;
        if end > self.cap {
            return None;
        }
        self.next = end;
        // SAFETY: inside the area.
        Some((at, unsafe { self.base.add(at) }))
    }

    /// The offset of `p..p+len` if it lies inside the area.
    fn offset_of(&self, p: *const u8, len: usize) -> Option<usize> {
        let (start, p) = (self.base as usize, p as usize);
        (p >= start && p.checked_add(len)? <= start + self.cap).then(|| p - start)
    }

    /// A pointer to `offset..offset+len` (writable: derived from the area itself), checked
    /// against the area.
    fn ptr(&self, offset: usize, len: usize) -> Result<*mut u8, WireError> {
        match offset.checked_add(len) {
            // SAFETY: inside the area.
            Some(end) if end <= self.cap => Ok(unsafe { self.base.add(offset) }),
            _ => Err(WireError::Payload("a bulk reference outside the shared area")),
        }
    }
}

/// Builds a frame: the header's space is reserved first, so the finished frame goes out
/// in one write with no copy of the payload.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    /// Where large byte strings go instead of the frame (a call's frame over shared memory).
    bulk: Option<Bulk>,
}

impl Writer {
    /// An empty frame.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty frame with room for `payload` bytes.
    pub fn with_capacity(payload: usize) -> Self {
        let mut buf = Vec::with_capacity(HEADER_LEN + payload);
        buf.resize(HEADER_LEN, 0);
        Writer { buf, bulk: None }
    }

    /// Clears the payload, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.truncate(HEADER_LEN);
    }

    /// Payload bytes so far.
    pub fn len(&self) -> usize {
        self.buf.len() - HEADER_LEN
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload so far.
    pub fn payload(&self) -> &[u8] {
        &self.buf[HEADER_LEN..]
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i8(&mut self, v: i8) -> &mut Self {
        self.u8(v as u8)
    }
    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.u16(v as u16)
    }
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.u32(v as u32)
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.u64(v as u64)
    }
    pub fn f32(&mut self, v: f32) -> &mut Self {
        self.u32(v.to_bits())
    }
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.u64(v.to_bits())
    }

    /// A byte string: `u32` length, then the bytes (or, with a bulk area attached and a
    /// large string, a reference to it there: copied in, unless it already lies there).
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        if let Some(bulk) = self.bulk.as_mut().filter(|_| v.len() >= BULK_MIN && v.len() < BULK_FLAG as usize)
        {
            let placed = match bulk.offset_of(v.as_ptr(), v.len()) {
                Some(at) => Some(at),
                None => bulk.alloc(v.len()).map(|(at, p)| {
                    // SAFETY: a fresh placement of `v.len()` bytes.
                    unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), p, v.len()) };
                    at
                }),
            };
            if let Some(at) = placed {
                self.u32(v.len() as u32 | BULK_FLAG).u32(at as u32);
                return self;
            }
        }
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v);
        self
    }

    /// Lets large byte strings of this frame go to `bulk` (see [`Bulk`]).
    pub fn attach_bulk(&mut self, bulk: Bulk) {
        self.bulk = Some(bulk);
    }

    /// Stops using the bulk area; returns it (with how far placements went).
    pub fn detach_bulk(&mut self) -> Option<Bulk> {
        self.bulk.take()
    }

    /// `len` bytes of the attached bulk area for the caller to fill (an out-buffer the
    /// library writes in place), or `None` without an area or room.
    pub fn bulk_alloc(&mut self, len: usize) -> Option<*mut u8> {
        self.bulk.as_mut().filter(|_| len >= BULK_MIN).and_then(|b| b.alloc(len)).map(|(_, p)| p)
    }

    /// A byte string of `len` bytes filled in place by `fill` (for out-buffers the
    /// callee writes straight into the reply); `fill` returns how many it used.
    pub fn bytes_with(&mut self, len: usize, fill: impl FnOnce(&mut [u8]) -> usize) -> &mut Self {
        let at = self.buf.len();
        self.u32(0);
        self.buf.resize(at + 4 + len, 0);
        let used = fill(&mut self.buf[at + 4..]).min(len);
        self.buf.truncate(at + 4 + used);
        self.buf[at..at + 4].copy_from_slice(&(used as u32).to_le_bytes());
        self
    }

    /// Finishes the header and writes the frame.
    pub fn send<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        kind: Kind,
        status: Status,
        id: u32,
        seq: u32,
    ) -> io::Result<()> {
        self.send_on(w, kind, status, id, seq, 0)
    }

    /// [`Writer::send`] on lane `lane` (see [`Header::lane`]).
    pub fn send_on<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        kind: Kind,
        status: Status,
        id: u32,
        seq: u32,
        lane: u16,
    ) -> io::Result<()> {
        let len = u32::try_from(self.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
        let header = Header { len, kind, status, id, seq, lane }.encode();
        self.buf[..HEADER_LEN].copy_from_slice(&header);
        w.write_all(&self.buf)?;
        w.flush()
    }
}

/// Reads payload values in order; every read is checked against the payload's end.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    /// The bulk area references in this frame point into.
    bulk: Option<Bulk>,
}

impl<'a> Reader<'a> {
    /// A reader over `payload`.
    pub fn new(payload: &'a [u8]) -> Self {
        Reader { buf: payload, bulk: None }
    }

    /// A reader over `payload` whose byte strings may be references into `bulk`.
    pub fn with_bulk(payload: &'a [u8], bulk: Option<Bulk>) -> Self {
        Reader { buf: payload, bulk }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The bytes not yet read (for tracing).
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        if self.buf.len() < n {
            return Err(WireError::Payload(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WireError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>("u8 past the end")?[0])
    }
    pub fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.array("u16 past the end")?))
    }
    pub fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array("u32 past the end")?))
    }
    pub fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.array("u64 past the end")?))
    }
    pub fn i8(&mut self) -> Result<i8, WireError> {
        Ok(self.u8()? as i8)
    }
    pub fn i16(&mut self) -> Result<i16, WireError> {
        Ok(self.u16()? as i16)
    }
    pub fn i32(&mut self) -> Result<i32, WireError> {
        Ok(self.u32()? as i32)
    }
    pub fn i64(&mut self) -> Result<i64, WireError> {
        Ok(self.u64()? as i64)
    }
    pub fn f32(&mut self) -> Result<f32, WireError> {
        Ok(f32::from_bits(self.u32()?))
    }
    pub fn f64(&mut self) -> Result<f64, WireError> {
        Ok(f64::from_bits(self.u64()?))
    }

    /// A byte string, borrowed from the payload: no copy (an in-buffer the library reads
    /// is passed as a pointer into the received frame).
    pub fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        self.bytes_at_most(usize::MAX)
    }

    /// A byte string of at most `max` bytes (a reply to a call that gave that capacity):
    /// a longer one is refused from its announced length, inline or a bulk reference,
    /// before anything is resolved or copied.
    pub fn bytes_at_most(&mut self, max: usize) -> Result<&'a [u8], WireError> {
        match self.placed_at_most(max)? {
            // SAFETY: `placed_at_most` checked the reference against the area, which stays
            // mapped for the call. The other process can write those bytes at any time: they
            // are only ever copied out (or handed to the library as its buffer) before being
            // interpreted, never validated in place, so a change under us cannot make a
            // checked value unchecked; every bit pattern is a valid `u8`.
            Ok((p, n)) => Ok(unsafe { std::slice::from_raw_parts(p, n) }),
            Err(b) => Ok(b),
        }
    }

    /// A byte string as [`Reader::bytes`] reads it, saying where it lies: `Ok(Ok(..))` for
    /// a reference into the bulk area (a pointer the library may read and write in place),
    /// `Ok(Err(..))` for bytes in the frame.
    #[allow(clippy::type_complexity)]
    pub fn bytes_placed(&mut self) -> Result<Result<(*mut u8, usize), &'a [u8]>, WireError> {
        self.placed_at_most(usize::MAX)
    }

    /// [`Reader::bytes_placed`] refusing more than `max` bytes: the one place a byte
    /// string's length is read.
    #[allow(clippy::type_complexity)]
    fn placed_at_most(&mut self, max: usize) -> Result<Result<(*mut u8, usize), &'a [u8]>, WireError> {
        let n = self.u32()?;
        let len = (n & !BULK_FLAG) as usize;
        if len > max {
            return Err(WireError::OverCapacity { len: len as u64, max: max as u64, unit: "bytes" });
        }
        if n & BULK_FLAG == 0 {
            return self.take(len, "byte string past the end").map(Err);
        }
        // A reference into the bulk area: length and offset read once, then checked.
        let at = self.u32()? as usize;
        let bulk = self.bulk.ok_or(WireError::Payload("a bulk reference without a shared area"))?;
        Ok(Ok((bulk.ptr(at, len)?, len)))
    }

    /// A byte string decoded as text, invalid UTF-8 replaced.
    pub fn string(&mut self) -> Result<String, WireError> {
        self.string_at_most(usize::MAX)
    }

    /// [`Reader::string`] of at most `max` bytes (as [`Reader::bytes_at_most`]). The bytes
    /// are copied before they are checked: a byte string in the bulk area is shared memory
    /// the other side could change between the check and the copy.
    pub fn string_at_most(&mut self, max: usize) -> Result<String, WireError> {
        let owned = self.bytes_at_most(max)?.to_vec();
        Ok(String::from_utf8(owned).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// Checks that everything was read.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::Payload("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_little_endian_and_round_trip() {
        let mut w = Writer::new();
        w.elements(&[1u16, 0x0203]).elements(&[-1.5f32]).elements(&[i64::MIN, 7]).elements::<u8>(&[]);
        let payload = &w.buf[HEADER_LEN..];
        assert_eq!(&payload[..8], &[4, 0, 0, 0, 1, 0, 3, 2]);
        assert_eq!(&payload[8..16], &[4, 0, 0, 0, 0, 0, 0xc0, 0xbf]);
        let mut r = Reader::new(payload);
        assert_eq!(r.elements::<u16>().unwrap(), [1, 0x0203]);
        assert_eq!(r.elements::<f32>().unwrap(), [-1.5]);
        assert_eq!(r.elements::<i64>().unwrap(), [i64::MIN, 7]);
        assert_eq!(r.elements::<u8>().unwrap(), [0u8; 0]);
        r.finish().unwrap();
        // Three bytes are not a whole number of u16s.
        let mut w = Writer::new();
        w.bytes(&[1, 2, 3]);
        assert!(Reader::new(&w.buf[HEADER_LEN..]).elements::<u16>().is_err());
    }

    #[test]
    fn frames_round_trip() {
        let mut w = Writer::new();
        w.u8(7).i32(-5).u64(u64::MAX).f64(1.5).bytes(b"abc").bytes_with(8, |b| {
            b[..3].copy_from_slice(b"xyz");
            3
        });
        let mut wire = Vec::new();
        w.send(&mut wire, Kind::Call, Status::Ok, 42, 9).unwrap();
        let mut payload = Payload::new();
        let h = read_frame(&mut wire.as_slice(), 1 << 20, &mut payload).unwrap();
        assert_eq!(
            (h.kind, h.status, h.id, h.seq, h.len as usize),
            (Kind::Call, Status::Ok, 42, 9, payload.len())
        );
        let mut r = Reader::new(&payload);
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.i32().unwrap(), -5);
        assert_eq!(r.u64().unwrap(), u64::MAX);
        assert_eq!(r.f64().unwrap(), 1.5);
        assert_eq!(r.bytes().unwrap(), b"abc");
        assert_eq!(r.bytes().unwrap(), b"xyz");
        r.finish().unwrap();
    }

    #[test]
    fn frames_stay_below_two_gib_and_strings_are_copied_before_decoding() {
        // Whatever the configured maximum: an inline length must never look like a bulk
        // reference (top bit set).
        let big = Header { len: (1 << 31) + 8, kind: Kind::Call, status: Status::Ok, id: 0, seq: 0, lane: 0 }
            .encode();
        let mut payload = Payload::new();
        assert!(matches!(read_frame(&mut &big[..], u32::MAX, &mut payload), Err(WireError::TooLarge { .. })));
        let mut w = Writer::new();
        w.bytes(b"ok \xff text");
        let frame = w.payload().to_vec();
        assert_eq!(Reader::new(&frame).string().unwrap(), "ok \u{fffd} text");
    }

    #[test]
    fn bad_frames_are_errors_before_any_allocation() {
        let mut payload = Payload::new();
        let huge =
            Header { len: u32::MAX, kind: Kind::Call, status: Status::Ok, id: 0, seq: 0, lane: 0 }.encode();
        assert!(matches!(read_frame(&mut &huge[..], 1024, &mut payload), Err(WireError::TooLarge { .. })));
        assert_eq!(payload.buf.capacity(), 0);
        let mut bad = huge;
        bad[4] = 99;
        assert!(matches!(read_frame(&mut &bad[..], u32::MAX, &mut payload), Err(WireError::BadKind(99))));
        assert!(matches!(read_frame(&mut &[][..], 1024, &mut payload), Err(WireError::Closed)));
        assert!(matches!(read_frame(&mut &huge[..7], 1024, &mut payload), Err(WireError::Truncated)));
        let short = Header { len: 10, kind: Kind::Call, status: Status::Ok, id: 0, seq: 0, lane: 0 }.encode();
        let mut wire = short.to_vec();
        wire.extend_from_slice(&[1, 2, 3]);
        assert!(matches!(read_frame(&mut wire.as_slice(), 1024, &mut payload), Err(WireError::Truncated)));
    }

    #[test]
    fn replies_longer_than_the_call_asked_for_are_refused_from_their_length() {
        fn over<T>(e: Result<T, WireError>) -> bool {
            matches!(e, Err(WireError::OverCapacity { .. }))
        }
        let mut w = Writer::new();
        w.bytes(b"sixteen bytes!!!").bytes(b"sixteen bytes!!!").elements(&[1u32, 2, 3]);
        w.elements(&[1u32, 2, 3]).bytes(&[1, 2, 3, 4, 5, 6, 7]);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        assert_eq!(r.bytes_at_most(16).unwrap(), b"sixteen bytes!!!", "exactly the capacity");
        assert!(over(r.clone().bytes_at_most(15)));
        assert!(over(r.clone().string_at_most(15)));
        assert_eq!(r.string_at_most(16).unwrap(), "sixteen bytes!!!");
        assert!(over(r.clone().elements_at_most::<u32>(2)), "the bound counts elements");
        assert_eq!(r.elements_at_most::<u32>(3).unwrap(), [1, 2, 3]);
        let mut small = [9u32; 2];
        assert!(over(r.clone().elements_into(&mut small)));
        assert_eq!(small, [9, 9], "left as it was");
        assert_eq!(r.elements_into(&mut [0u32; 4]).unwrap(), 3);
        assert!(matches!(r.elements_at_most::<u16>(100), Err(WireError::Payload(_))), "7 bytes");

        // A reference into the bulk area is bounded by the same check, before it is
        // resolved: one claiming 4 MiB is refused for the capacity, not for the area.
        let mut area = vec![0u64; 1 << 13];
        // SAFETY: `area` (64 KiB) outlives the readers.
        let bulk = unsafe { Bulk::new(area.as_mut_ptr().cast(), 1 << 16, 0) };
        let mut forged = Writer::new();
        forged.u32((4 << 20) | BULK_FLAG).u32(0).u32((32 << 10) | BULK_FLAG).u32(0);
        let forged = forged.payload().to_vec();
        let mut r = Reader::with_bulk(&forged, Some(bulk));
        assert!(over(r.clone().elements_at_most::<u8>(64)));
        assert!(matches!(r.bytes(), Err(WireError::Payload(_))), "unbounded: outside the area");
        assert!(over(r.clone().bytes_at_most(64)), "inside the area, but more than asked");
        assert_eq!(r.bytes_at_most(32 << 10).unwrap().len(), 32 << 10);
        let e = WireError::OverCapacity { len: 200 << 20, max: 64, unit: "bytes" };
        assert_eq!(e.to_string(), "a reply of 209715200 bytes where the call asked for at most 64");
        drop(area);
    }

    #[test]
    fn payload_reads_are_bounded() {
        let mut r = Reader::new(&[5, 0, 0, 0, 1, 2]);
        assert!(matches!(r.bytes(), Err(WireError::Payload(_))));
        let mut r = Reader::new(&[1, 2, 3]);
        assert!(r.u32().is_err());
        assert_eq!(r.remaining(), 3);
    }
}

/// Fixed-width numbers that cross the wire as arrays of little-endian values (what C
/// buffers hold on x86, where both sides run).
pub trait Element: Copy + Default + sealed::Sealed {
    /// Bytes per element.
    const SIZE: usize;
    /// From `SIZE` little-endian bytes.
    fn from_le(b: &[u8]) -> Self;
    /// Appends the little-endian bytes.
    fn put_le(self, out: &mut Vec<u8>);
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! element {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn from_le(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(&b[..Self::SIZE]);
                <$t>::from_le_bytes(a)
            }
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
element!(i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

impl Writer {
    /// A slice of numbers as one byte string.
    pub fn elements<T: Element>(&mut self, v: &[T]) -> &mut Self {
        if cfg!(target_endian = "little") {
            // SAFETY: `Element` is sealed to primitive numbers: no padding, and on a
            // little-endian target their memory is their wire form (a byte string, which
            // `bytes` may place in the bulk area).
            let bytes =
                unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) };
            return self.bytes(bytes);
        }
        self.u32((v.len() * T::SIZE) as u32);
        self.buf.reserve(v.len() * T::SIZE);
        for e in v {
            e.put_le(&mut self.buf);
        }
        self
    }
}

impl<'a> Reader<'a> {
    /// A byte string read as numbers straight into `dst` (an in-place buffer coming back):
    /// more elements than `dst` holds (refused from the length, as
    /// [`Reader::bytes_at_most`]) or a length that is not a whole number of elements is an
    /// error and leaves `dst` as it was. Returns how many were written.
    pub fn elements_into<T: Element>(&mut self, dst: &mut [T]) -> Result<usize, WireError> {
        let b = self.bytes_at_most(dst.len().saturating_mul(T::SIZE))?;
        if b.len() % T::SIZE != 0 {
            return Err(WireError::Payload("a buffer came back with another length"));
        }
        let n = b.len() / T::SIZE;
        if cfg!(target_endian = "little") {
            // SAFETY: `Element` is sealed to primitive numbers, valid for any bit pattern;
            // `dst` holds at least `n` elements, which is exactly `b.len()` bytes.
            unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), dst.as_mut_ptr().cast::<u8>(), b.len()) };
        } else {
            for (d, c) in dst.iter_mut().zip(b.chunks_exact(T::SIZE)) {
                *d = T::from_le(c);
            }
        }
        Ok(n)
    }

    /// A byte string read as numbers (copied into aligned memory); a length that is not a
    /// whole number of elements is an error.
    pub fn elements<T: Element>(&mut self) -> Result<Vec<T>, WireError> {
        self.elements_at_most(usize::MAX)
    }

    /// [`Reader::elements`] of at most `max` elements (an out-buffer of that capacity),
    /// refused from the length before anything is allocated.
    pub fn elements_at_most<T: Element>(&mut self, max: usize) -> Result<Vec<T>, WireError> {
        let b = self.bytes_at_most(max.saturating_mul(T::SIZE))?;
        if b.len() % T::SIZE != 0 {
            return Err(WireError::Payload("a buffer is not a whole number of elements"));
        }
        if cfg!(target_endian = "little") {
            let n = b.len() / T::SIZE;
            let mut out = Vec::<T>::with_capacity(n);
            // SAFETY: `Element` is sealed to primitive numbers, valid for any bit pattern;
            // `out` has room for `n` elements, which is exactly `b.len()` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(b.as_ptr(), out.as_mut_ptr().cast::<u8>(), b.len());
                out.set_len(n);
            }
            Ok(out)
        } else {
            Ok(b.chunks_exact(T::SIZE).map(T::from_le).collect())
        }
    }
}
