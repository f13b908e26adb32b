use super::*;
use std::ffi::c_void;

type Handle = *mut c_void;

/// The section and the four wake-up events (per ring: data arrived, room freed).
pub struct Shared {
    map: Handle,
    events: [Handle; 4],
}

pub type RawPipe = usize;

#[repr(C)]
struct SecurityAttributes {
    len: u32,
    descriptor: *mut c_void,
    inherit: i32,
}

#[link(name = "kernel32")]
extern "system" {
    fn CreateFileMappingW(
        file: Handle,
        attrs: *const SecurityAttributes,
        protect: u32,
        high: u32,
        low: u32,
        name: *const u16,
    ) -> Handle;
    fn MapViewOfFile(map: Handle, access: u32, high: u32, low: u32, bytes: usize) -> *mut c_void;
    fn UnmapViewOfFile(base: *const c_void) -> i32;
    fn CreateEventW(attrs: *mut c_void, manual: i32, initial: i32, name: *const u16) -> Handle;
    fn SetEvent(h: Handle) -> i32;
    fn WaitForSingleObject(h: Handle, ms: u32) -> u32;
    fn CloseHandle(h: Handle) -> i32;
    fn SetHandleInformation(h: Handle, mask: u32, flags: u32) -> i32;
    fn DuplicateHandle(
        source_process: Handle,
        source: Handle,
        target_process: Handle,
        target: *mut Handle,
        access: u32,
        inherit: i32,
        options: u32,
    ) -> i32;
    fn GetCurrentProcess() -> Handle;
    fn PeekNamedPipe(
        h: Handle,
        buf: *mut c_void,
        size: u32,
        read: *mut u32,
        avail: *mut u32,
        left: *mut u32,
    ) -> i32;
}

const PAGE_READWRITE: u32 = 4;
const FILE_MAP_ALL_ACCESS: u32 = 0xf001f;
const HANDLE_FLAG_INHERIT: u32 = 1;

/// Not inheritable: Rust's `Command` lets a child inherit every inheritable handle, so
/// the host gets its own duplicates instead (see `token_for`).
fn private_attrs() -> SecurityAttributes {
    SecurityAttributes {
        len: std::mem::size_of::<SecurityAttributes>() as u32,
        descriptor: std::ptr::null_mut(),
        inherit: 0,
    }
}

fn map(h: Handle, len: usize) -> io::Result<*mut u8> {
    // SAFETY: a section handle we hold; checked for NULL.
    let p = unsafe { MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, len) };
    if p.is_null() {
        Err(io::Error::last_os_error())
    } else {
        Ok(p.cast())
    }
}

pub fn create(len: usize) -> io::Result<(*mut u8, Shared)> {
    let attrs = private_attrs();
    // SAFETY: a pagefile-backed, unnamed section; events likewise unnamed.
    unsafe {
        let invalid = -1isize as Handle;
        let map_h = CreateFileMappingW(
            invalid,
            &attrs,
            PAGE_READWRITE,
            (len as u64 >> 32) as u32,
            len as u32,
            std::ptr::null(),
        );
        if map_h.is_null() {
            return Err(io::Error::last_os_error());
        }
        let mut shared = Shared { map: map_h, events: [std::ptr::null_mut(); 4] };
        for e in shared.events.iter_mut() {
            *e = CreateEventW(&attrs as *const SecurityAttributes as *mut c_void, 0, 0, std::ptr::null());
            if e.is_null() {
                let err = io::Error::last_os_error();
                release(&shared);
                return Err(err);
            }
        }
        match map(map_h, len) {
            Ok(p) => Ok((p, shared)),
            Err(e) => {
                release(&shared);
                Err(e)
            }
        }
    }
}

pub fn open(token: &str) -> io::Result<(*mut u8, usize, Shared)> {
    let bad = || io::Error::new(io::ErrorKind::InvalidInput, "malformed shared-memory token");
    let fields: Vec<usize> = token
        .strip_prefix("h:")
        .ok_or_else(bad)?
        .split(':')
        .map(|f| f.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [map_h, len, e0, e1, e2, e3] = fields[..] else { return Err(bad()) };
    let shared =
        Shared { map: map_h as Handle, events: [e0 as Handle, e1 as Handle, e2 as Handle, e3 as Handle] };
    // SAFETY: inherited handles; programs the library starts must not inherit them.
    unsafe {
        SetHandleInformation(shared.map, HANDLE_FLAG_INHERIT, 0);
        for e in shared.events {
            SetHandleInformation(e, HANDLE_FLAG_INHERIT, 0);
        }
    }
    let p = map(shared.map, len)?;
    Ok((p, len, shared))
}

pub fn token(s: &Shared, len: usize) -> String {
    let e = s.events.map(|e| e as usize);
    format!("h:{}:{len}:{}:{}:{}:{}", s.map as usize, e[0], e[1], e[2], e[3])
}

/// Duplicates the section and the events into `child` (not inheritable there either).
pub fn token_for(s: &Shared, len: usize, child: &std::process::Child) -> io::Result<String> {
    use std::os::windows::io::AsRawHandle;
    const DUPLICATE_SAME_ACCESS: u32 = 2;
    let target = child.as_raw_handle() as Handle;
    let dup = |h: Handle| -> io::Result<usize> {
        let mut out: Handle = std::ptr::null_mut();
        // SAFETY: live handles of ours, duplicated into a process we started.
        let ok =
            unsafe { DuplicateHandle(GetCurrentProcess(), h, target, &mut out, 0, 0, DUPLICATE_SAME_ACCESS) };
        if ok == 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(out as usize)
        }
    };
    let map = dup(s.map)?;
    let mut e = [0usize; 4];
    for (i, h) in s.events.iter().enumerate() {
        e[i] = dup(*h)?;
    }
    Ok(format!("h:{map}:{len}:{}:{}:{}:{}", e[0], e[1], e[2], e[3]))
}

pub fn release(s: &Shared) {
    // SAFETY: handles this module owns.
    unsafe {
        CloseHandle(s.map);
        for e in s.events {
            if !e.is_null() {
                CloseHandle(e);
            }
        }
    }
}

/// # Safety
/// `base` is a view of ours that nothing uses any more.
pub unsafe fn unmap(base: *mut u8, _: usize) {
    // SAFETY: the caller's promise.
    unsafe { UnmapViewOfFile(base as *const c_void) };
}

pub fn wait(s: &Shared, slot: usize, w: &AtomicU32, seen: u32, nap: Duration) {
    if w.load(Ordering::SeqCst) != seen {
        return;
    }
    // SAFETY: a live event handle. An event left signaled by an earlier wake-up only
    // makes this a spurious wake-up: the caller checks the word again.
    unsafe { WaitForSingleObject(s.events[slot & 3], nap.as_millis().max(1) as u32) };
}

pub fn wake(s: &Shared, slot: usize, _: &AtomicU32) {
    // SAFETY: a live event handle.
    unsafe { SetEvent(s.events[slot & 3]) };
}

/// A pipe's writer is gone when peeking at its read end fails.
pub fn pipe_alive(h: RawPipe) -> bool {
    let mut avail = 0u32;
    // SAFETY: a pipe handle the caller keeps open; no data is read.
    unsafe {
        PeekNamedPipe(
            h as Handle,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            &mut avail,
            std::ptr::null_mut(),
        ) != 0
    }
}

/// Nothing to do: the handles are inheritable from birth.
pub fn inheritable(_: &Shared, _: &mut std::process::Command) {}
