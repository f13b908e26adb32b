use super::*;
use std::ffi::c_int;
use std::os::fd::{FromRawFd, IntoRawFd};

extern "C" {
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn dup2(from: c_int, to: c_int) -> c_int;
    fn getppid() -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn _exit(code: c_int) -> !;
}

fn check(r: c_int) -> io::Result<c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// F_DUPFD_CLOEXEC: a duplicate that programs the library starts do not inherit
/// (otherwise a crashed host's child would keep the client's pipe open).
const F_DUPFD_CLOEXEC: c_int = 1030;

/// Keeps fds 0 and 1 for the protocol under new numbers, then points fd 1 at stderr
/// and fd 0 at /dev/null, so a library that prints or reads stdin cannot touch the
/// protocol stream.
pub fn take_stdio() -> io::Result<Stdio> {
    // SAFETY: plain descriptor calls; the duplicates are owned by the Files below.
    unsafe {
        let input = check(fcntl(0, F_DUPFD_CLOEXEC, 3))?;
        let output = check(fcntl(1, F_DUPFD_CLOEXEC, 3))?;
        check(dup2(2, 1))?;
        let null = File::open("/dev/null")?.into_raw_fd();
        check(dup2(null, 0))?;
        let _ = File::from_raw_fd(null);
        Ok(Stdio { input: File::from_raw_fd(input), output: File::from_raw_fd(output) })
    }
}

/// Dies with the client, even while the library thread is stuck in a call: a thread
/// watches for the host being re-parented (its client gone) and ends the process.
/// (PR_SET_PDEATHSIG would fire when the client *thread* that spawned the host exits,
/// which a multi-threaded client does routinely.)
pub fn die_with_parent(parent: Option<u32>) {
    let Some(parent) = parent else { return };
    // SAFETY: getppid has no preconditions; _exit ends the process without running
    // atexit handlers, which could wait on locks the library thread holds.
    let orphaned = move || unsafe { getppid() } as u32 != parent;
    if orphaned() {
        // SAFETY: as said above.
        unsafe { _exit(0) };
    }
    let _ = std::thread::Builder::new().name("dllgen-parent-watch".into()).spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if orphaned() {
            // SAFETY: as said above.
            unsafe { _exit(0) };
        }
    });
}

/// On Unix the host watches for its parent itself (see `die_with_parent`).
pub fn adopt_child(_child: &std::process::Child) {}

/// Kills process `pid` outright.
pub fn kill_process(pid: u32) {
    // SAFETY: SIGKILL to a pid we started.
    unsafe {
        kill(pid as c_int, 9);
    }
}

extern "C" {
    fn syscall(number: std::ffi::c_long, ...) -> std::ffi::c_long;
    fn close(fd: c_int) -> c_int;
    fn prctl(option: c_int, ...) -> c_int;
}

/// pidfd_open(2) and pidfd_getfd(2): the same numbers on every Linux architecture.
const SYS_PIDFD_OPEN: std::ffi::c_long = 434;
const SYS_PIDFD_GETFD: std::ffi::c_long = 438;

/// Host: a duplicate of descriptor `token` of process `pid` (the client that started this
/// host), sharing its open file description, as `dup` would (pidfd_getfd, Linux 5.6).
pub fn take_descriptor(pid: u32, token: u64) -> io::Result<i32> {
    let fd = i32::try_from(token).map_err(|_| io::Error::other("a descriptor number out of range"))?;
    use std::ffi::c_long;
    // The client's pidfd, opened once it works (kept for the host's lifetime).
    static PIDFD: std::sync::Mutex<Option<(u32, c_int)>> = std::sync::Mutex::new(None);
    let mut cached = PIDFD.lock().unwrap_or_else(|e| e.into_inner());
    let pidfd = match *cached {
        Some((of, pidfd)) if of == pid => pidfd,
        Some(_) => return Err(io::Error::other("a descriptor of another process than the client's")),
        None => {
            // SAFETY: a plain system call on a number.
            let pidfd = check(unsafe { syscall(SYS_PIDFD_OPEN, pid as c_long, 0 as c_long) } as c_int)?;
            *cached = Some((pid, pidfd));
            pidfd
        }
    };
    // SAFETY: a plain system call on numbers; the new descriptor is the caller's.
    check(unsafe { syscall(SYS_PIDFD_GETFD, pidfd as c_long, fd as c_long, 0 as c_long) } as c_int)
}

/// Host: closes a descriptor the library did not take.
pub fn close_descriptor(fd: i32) {
    // SAFETY: a descriptor this host took and nothing else owns.
    unsafe { close(fd) };
}

/// Client: lets the host `pid` take descriptors of this process where Yama's
/// `ptrace_scope` is 1 (it otherwise allows that only to this process's ancestors). Only
/// then, as it names one process at a time (replacing one the program named itself).
pub fn allow_taking(pid: u32) {
    const PR_SET_PTRACER: c_int = 0x5961_6d61;
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").unwrap_or_default();
    if scope.trim() == "1" {
        // SAFETY: a plain process-attribute call; a failure shows as the host's refusal.
        unsafe { prctl(PR_SET_PTRACER, pid as std::ffi::c_ulong) };
    }
}

/// A `sigset_t` (glibc's: 1024 bits), as the signal calls below take it.
#[repr(C)]
struct SigSet([u64; 16]);

/// Linux's `SIGPIPE`, `SIG_BLOCK`, `SIG_SETMASK`.
const SIGPIPE: c_int = 13;
const SIG_BLOCK: c_int = 0;
const SIG_SETMASK: c_int = 2;

extern "C" {
    fn sigemptyset(set: *mut SigSet) -> c_int;
    fn sigaddset(set: *mut SigSet, sig: c_int) -> c_int;
    fn sigismember(set: *const SigSet, sig: c_int) -> c_int;
    fn sigpending(set: *mut SigSet) -> c_int;
    fn pthread_sigmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn sigtimedwait(set: *const SigSet, info: *mut [u64; 16], timeout: *const [i64; 2]) -> c_int;
    fn sigaction(sig: c_int, act: *const u8, old: *mut SigAction) -> c_int;
}

/// Room for a `struct sigaction` (152 bytes on x86_64 glibc), whose first field is the
/// handler.
#[repr(C)]
struct SigAction([usize; 48]);

/// Whether this process ignores SIGPIPE (Rust programs do; C, Python and .NET programs
/// using the proxy library may not: a write to a host that died would kill them).
fn sigpipe_ignored() -> bool {
    /// `SIG_IGN`.
    const IGNORE: usize = 1;
    let mut old = SigAction([0; 48]);
    // SAFETY: with no new action, sigaction only reads the current one into `old`.
    let r = unsafe { sigaction(SIGPIPE, std::ptr::null(), &mut old) };
    r == 0 && old.0[0] == IGNORE
}

/// A stream whose writes never raise SIGPIPE: SIGPIPE is blocked for the calling thread
/// during each write, and one the write raised is taken before it is unblocked (a broken
/// stream is an `EPIPE` error, as in a Rust program).
struct Quiet<W>(W);

impl<W: io::Write> io::Write for Quiet<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: the sets are initialized by sigemptyset before use; the mask is restored
        // on every path.
        unsafe {
            let mut pipe = SigSet([0; 16]);
            let (mut old, mut pending) = (SigSet([0; 16]), SigSet([0; 16]));
            sigemptyset(&mut pipe);
            sigaddset(&mut pipe, SIGPIPE);
            pthread_sigmask(SIG_BLOCK, &pipe, &mut old);
            // A SIGPIPE already pending (the program blocks it itself) is not ours to take.
            sigemptyset(&mut pending);
            sigpending(&mut pending);
            let already = sigismember(&pending, SIGPIPE) == 1;
            let r = self.0.write(buf);
            if !already && matches!(&r, Err(e) if e.kind() == io::ErrorKind::BrokenPipe) {
                let mut info = [0u64; 16];
                sigtimedwait(&pipe, &mut info, &[0, 0]);
            }
            pthread_sigmask(SIG_SETMASK, &old, std::ptr::null_mut());
            r
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `w`, made safe to write to once the other end is gone in a process that does not
/// ignore SIGPIPE.
pub fn quiet(w: Box<dyn io::Write + Send>) -> Box<dyn io::Write + Send> {
    if sigpipe_ignored() {
        w
    } else {
        Box::new(Quiet(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    extern "C" {
        fn signal(sig: c_int, handler: usize) -> usize;
    }

    /// In a process with SIGPIPE's default action (a C program's), a write to a pipe whose
    /// reader is gone is an `EPIPE` error through `quiet`, and the process lives on. Run in
    /// a child copy of this test binary: the action is process-wide.
    #[test]
    fn a_broken_pipe_is_an_error_not_a_signal() {
        const CHILD: &str = "DLLGEN_SIGPIPE_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "sys::imp::tests::a_broken_pipe_is_an_error_not_a_signal", "--nocapture"])
                .env(CHILD, "1")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "the child died: {:?}\n{stdout}", out.status);
            assert!(stdout.contains("write failed: BrokenPipe"), "{stdout}");
            return;
        }
        // SAFETY: SIG_DFL (0) for SIGPIPE, in this child process only.
        unsafe { signal(SIGPIPE, 0) };
        assert!(!sigpipe_ignored());
        let mut child =
            std::process::Command::new("true").stdin(std::process::Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        child.wait().unwrap();
        let mut w = quiet(Box::new(stdin));
        let e = w.write_all(b"to nobody").unwrap_err();
        println!("write failed: {:?}", e.kind());
    }
}
