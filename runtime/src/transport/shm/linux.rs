use super::*;
use std::ffi::{c_char, c_int, c_long, c_uint, c_void};

/// The region's memfd.
pub struct Shared(pub c_int);

pub type RawPipe = c_int;

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: i16,
    revents: i16,
}

extern "C" {
    fn poll(fds: *mut PollFd, n: std::ffi::c_ulong, timeout: c_int) -> c_int;
}

/// A pipe's writer is gone when polling its read end reports a hang-up or an error.
pub fn pipe_alive(fd: c_int) -> bool {
    const POLLERR: i16 = 8;
    const POLLHUP: i16 = 16;
    const POLLNVAL: i16 = 32;
    let mut p = PollFd { fd, events: 0, revents: 0 };
    // SAFETY: one valid pollfd, no waiting.
    let n = unsafe { poll(&mut p, 1, 0) };
    !(n > 0 && p.revents & (POLLERR | POLLHUP | POLLNVAL) != 0)
}

extern "C" {
    fn memfd_create(name: *const c_char, flags: c_uint) -> c_int;
    fn ftruncate(fd: c_int, len: c_long) -> c_int;
    fn lseek(fd: c_int, off: c_long, whence: c_int) -> c_long;
    fn mmap(addr: *mut c_void, len: usize, prot: c_int, flags: c_int, fd: c_int, off: c_long) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> c_int;
    #[link_name = "close"]
    fn close_raw(fd: c_int) -> c_int;
    fn syscall(n: c_long, ...) -> c_long;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
}

#[cfg(target_arch = "x86")]
const SYS_FUTEX: c_long = 240;
#[cfg(target_arch = "x86_64")]
const SYS_FUTEX: c_long = 202;
#[cfg(target_arch = "aarch64")]
const SYS_FUTEX: c_long = 98;
/// Elsewhere no futex number is declared: waits sleep briefly instead.
#[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
const SYS_FUTEX: c_long = -1;
const FUTEX_WAIT: c_int = 0;
const FUTEX_WAKE: c_int = 1;

#[repr(C)]
struct Timespec {
    sec: c_long,
    nsec: c_long,
}

fn map(fd: c_int, len: usize) -> io::Result<*mut u8> {
    // SAFETY: a shared read-write mapping of an fd we own; checked for MAP_FAILED.
    let p = unsafe { mmap(std::ptr::null_mut(), len, 3, 1, fd, 0) };
    if p as isize == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(p.cast())
    }
}

pub fn create(len: usize) -> io::Result<(*mut u8, Shared)> {
    // SAFETY: a NUL-terminated name; MFD_CLOEXEC (the spawn clears it for the host only)
    // and MFD_ALLOW_SEALING.
    let fd = unsafe { memfd_create(c"dllgen".as_ptr(), 1 | 2) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let shared = Shared(fd);
    // SAFETY: our fd. Sealed at its size: a host that truncated it would make the
    // client's next access a SIGBUS (F_ADD_SEALS: SEAL_SHRINK | SEAL_GROW | SEAL_SEAL).
    if unsafe { ftruncate(fd, len as c_long) } != 0 || unsafe { fcntl(fd, 1033, 2 | 4 | 1) } != 0 {
        let e = io::Error::last_os_error();
        close_fd(fd);
        return Err(e);
    }
    match map(fd, len) {
        Ok(p) => Ok((p, shared)),
        Err(e) => {
            close_fd(fd);
            Err(e)
        }
    }
}

pub fn open(token: &str) -> io::Result<(*mut u8, usize, Shared)> {
    let fd: c_int = token
        .strip_prefix("fd:")
        .and_then(|t| t.split(':').next())
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 2)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "malformed shared-memory token"))?;
    // SAFETY: descriptor calls on the inherited fd; a wrong one fails cleanly. First it is
    // made close-on-exec again (programs the library starts must not inherit it), and it
    // is closed on every failure.
    unsafe { fcntl(fd, 2, 1) };
    // SAFETY: as above.
    let len = unsafe { lseek(fd, 0, 2) };
    if len <= 0 {
        let e = io::Error::last_os_error();
        close_fd(fd);
        return Err(e);
    }
    match map(fd, len as usize) {
        Ok(p) => Ok((p, len as usize, Shared(fd))),
        Err(e) => {
            close_fd(fd);
            Err(e)
        }
    }
}

pub fn token(s: &Shared, len: usize) -> String {
    format!("fd:{}:{len}", s.0)
}

/// The child inherited the descriptor under the same number.
pub fn token_for(s: &Shared, len: usize, _: &std::process::Child) -> io::Result<String> {
    Ok(token(s, len))
}

fn close_fd(fd: c_int) {
    // SAFETY: an fd this module owns.
    unsafe { close_raw(fd) };
}

pub fn release(s: &Shared) {
    close_fd(s.0);
}

/// # Safety
/// `base` and `len` are a mapping of ours that nothing uses any more.
pub unsafe fn unmap(base: *mut u8, len: usize) {
    // SAFETY: the caller's promise.
    unsafe { munmap(base.cast(), len) };
}

/// Sleeps while `*w == seen`, at most `nap` (spurious wake-ups are fine).
pub fn wait(_: &Shared, _slot: usize, w: &AtomicU32, seen: u32, nap: Duration) {
    let ts = Timespec { sec: nap.as_secs() as c_long, nsec: nap.subsec_nanos() as c_long };
    // SAFETY: a shared futex word in our mapping; a timeout struct that outlives the call.
    let r = if SYS_FUTEX < 0 {
        -1
    } else {
        // SAFETY: as said above.
        unsafe { syscall(SYS_FUTEX, w.as_ptr(), FUTEX_WAIT, seen, &ts as *const Timespec, 0usize, 0u32) }
    };
    // No futex (another architecture, or a kernel without the 32-bit-time call): a short
    // sleep, so the wait polls instead of spinning.
    if r == -1 && (SYS_FUTEX < 0 || io::Error::last_os_error().raw_os_error() == Some(38)) {
        std::thread::sleep(nap.min(Duration::from_millis(1)));
    }
}

pub fn wake(_: &Shared, _slot: usize, w: &AtomicU32) {
    if SYS_FUTEX < 0 {
        return;
    }
    // SAFETY: as above; wakes the one waiter this word can have.
    unsafe {
        syscall(SYS_FUTEX, w.as_ptr(), FUTEX_WAKE, 1 as c_int, 0usize, 0usize, 0u32);
    }
}

/// Lets the child about to be spawned inherit the region's fd.
pub fn inheritable(s: &Shared, cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let fd = s.0;
    // SAFETY: runs in the child between fork and exec; fcntl is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if fcntl(fd, 2, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
